"""fixData: fill in missing genders, set-based.

Order of evidence: other subscriptions with the same first name whose gender came from the
export ← the IBGE census ``names`` table ← ``NI``. Each source only counts when its majority
share reaches the configured ratio (default 0.9). Inferred genders never count as evidence
for other leads, so one guess cannot spread. A lead whose gender stays ``NI`` cannot be sent
to Kroton (it requires M/F) and ends ``register_failed`` with reason ``gender_unknown``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Date, DateTime, Engine, and_, bindparam, func, select, text
from sqlalchemy.sql.elements import TextClause

from kroton_pipeline.db.models import Name, Subscription
from kroton_pipeline.db.status_changes import transition_where
from kroton_pipeline.domain.leads import GENDER_UNKNOWN
from kroton_pipeline.domain.statuses import Status, StatusReason

log = logging.getLogger(__name__)

GENDER_UNKNOWN_REASON = StatusReason.GENDER_UNKNOWN.value

_FROM_SUBSCRIPTIONS = text(
    """
    UPDATE subscriptions
       SET gender = votes.gender, gender_source = 'subscriptions', updated_at = :now
      FROM (
            SELECT first_name,
                   CASE WHEN SUM(CASE WHEN gender = 'M' THEN 1 ELSE 0 END) >=
                             SUM(CASE WHEN gender = 'F' THEN 1 ELSE 0 END)
                        THEN 'M' ELSE 'F' END AS gender,
                   MAX(SUM(CASE WHEN gender = 'M' THEN 1 ELSE 0 END),
                       SUM(CASE WHEN gender = 'F' THEN 1 ELSE 0 END)) * 1.0 / COUNT(*) AS share
              FROM subscriptions
             WHERE gender_source = 'export' AND gender IN ('M', 'F')
               AND first_name IN (SELECT first_name FROM subscriptions
                                   WHERE import_date = :import_date AND gender IS NULL)
             GROUP BY first_name
           ) AS votes
     WHERE subscriptions.import_date = :import_date
       AND subscriptions.gender IS NULL
       AND subscriptions.first_name = votes.first_name
       AND votes.share >= :min_ratio
    """
)

_FROM_NAMES = text(
    """
    UPDATE subscriptions
       SET gender = names.classification, gender_source = 'ibge', updated_at = :now
      FROM names
     WHERE subscriptions.import_date = :import_date
       AND subscriptions.gender IS NULL
       AND subscriptions.first_name = names.first_name
       AND names.classification IN ('M', 'F')
       AND COALESCE(names.ratio, 0) >= :min_ratio
    """
)

_TO_UNKNOWN = text(
    """
    UPDATE subscriptions
       SET gender = :unknown, gender_source = 'unknown', updated_at = :now
     WHERE import_date = :import_date AND gender IS NULL
    """
)


@dataclass
class GenderFillResult:
    import_date: date
    from_subscriptions: int = 0
    from_ibge: int = 0
    unknown: int = 0
    sent_to_register_failed: int = 0
    sources: dict[str, int] = field(default_factory=dict)


def _max_sql(engine: Engine, sql: str) -> str:
    # SQLite's scalar MAX(a, b) is PostgreSQL's GREATEST(a, b).
    return sql if engine.dialect.name == "sqlite" else sql.replace("MAX(SUM", "GREATEST(SUM")


def _typed(statement: TextClause) -> TextClause:
    """The date and timestamp parameters typed, so that SQLAlchemy converts them for SQLite
    (the sqlite3 module's own date adapters are deprecated since Python 3.12)."""
    return statement.bindparams(
        bindparam("import_date", type_=Date()), bindparam("now", type_=DateTime())
    )


def fill_genders(
    engine: Engine,
    import_date: date,
    min_ratio: float,
    run_id: str | None,
    now,
    hold_unknown: bool = True,
) -> GenderFillResult:
    """Fill missing genders of ``import_date``'s leads; those that stay unknown are held
    (``register_failed``, ``gender_unknown``) unless the policy sends them anyway."""
    result = GenderFillResult(import_date)
    params = {"import_date": import_date, "min_ratio": min_ratio, "now": now}
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # The date's rows were just COPYed: the planner's statistics do not know them yet
            # and it picks a nested loop per first name (1.5 s for 100,000 leads, 0.3 s with
            # hash joins). Analysing the table first would cost more than the update.
            conn.execute(text("SET LOCAL enable_nestloop = off"))
        from_subs = _typed(text(_max_sql(engine, _FROM_SUBSCRIPTIONS.text)))
        result.from_subscriptions = conn.execute(from_subs, params).rowcount
        result.from_ibge = conn.execute(_typed(_FROM_NAMES), params).rowcount
        unknown = {**params, "unknown": GENDER_UNKNOWN}
        result.unknown = conn.execute(_typed(_TO_UNKNOWN), unknown).rowcount
        waiting = (Status.TO_SYNC.value, Status.COURSE_FAILED.value)
        result.sent_to_register_failed = (
            transition_where(
                conn,
                and_(
                    Subscription.import_date == import_date,
                    Subscription.gender == GENDER_UNKNOWN,
                    Subscription.status.in_(waiting),
                ),
                Status.REGISTER_FAILED,
                GENDER_UNKNOWN_REASON,
                run_id,
            )
            if hold_unknown
            else 0
        )
        rows = conn.execute(
            select(Subscription.gender_source, func.count())
            .where(Subscription.import_date == import_date)
            .group_by(Subscription.gender_source)
        ).all()
    result.sources = dict(Counter({str(source): int(count) for source, count in rows}))
    log.info(
        "fix_data %s: %d from subscriptions, %d from IBGE, %d unknown",
        import_date,
        result.from_subscriptions,
        result.from_ibge,
        result.unknown,
    )
    return result


def names_loaded(conn: Connection) -> int:
    """How many names the ``names`` table holds (0: load it before filling genders)."""
    return conn.execute(select(func.count()).select_from(Name.__table__)).scalar_one()
