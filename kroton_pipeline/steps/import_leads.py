"""Importing one day's export into ``subscriptions``, from the landing file or from staged rows.

Sections, in the order of the code:

**import_leads**: Import one day's export: read, normalise, validate, reject with reasons,
upsert by CPF.

Every input row ends as a subscription or a rejection (rows in = imported + rejected), and
re-importing the same date is idempotent: rejections of the date are replaced, leads already
imported for the date are updated only while nothing has been done with them yet
(``to_sync``). One active subscription per CPF (``steps.import_leads``): a CPF active or enrolled
from an earlier date is rejected, one whose attempt ended without success comes back as a new
attempt, an erased person never comes back.

**staging**: Leads the Databricks job staged in the database (``incoming_leads``), read as an
export.

A :class:`StagedBatch` behaves like a landing export for the import: ``read()`` gives the
rows as a DataFrame of strings with ``row_number`` (the order the rows were written) and a
SHA-256 of their content, so the same validation, rejection and accounting path imports
them.

**attempts**: One active subscription per CPF: what an export row means for the person it names.

A CPF seen for the first time is a new lead. A CPF whose latest attempt ended without success
(``ENDED_WITHOUT_SUCCESS``) on an earlier date comes back as a new attempt; one still active
(or enrolled) from an earlier date is rejected ``cpf_already_imported``; the same import date
again refreshes its lead. Erased people never return. The partial unique index
``uq_subscriptions_active_cpf`` holds the rule in the database as well.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, String, any_, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from kroton_pipeline.db.engine import (
    chunked,
    copy_frame,
    in_list_size,
    insert_returning_ids,
    insert_rows,
    upsert_rows,
)
from kroton_pipeline.db.incoming_models import IncomingBatch, IncomingLead
from kroton_pipeline.db.limits import SUBSCRIPTION_LIMITS
from kroton_pipeline.db.models import ErasedPerson, ImportFile, LeadRejection, Subscription
from kroton_pipeline.db.status_changes import record_created, record_created_at
from kroton_pipeline.domain.erasure_digest import erased_among
from kroton_pipeline.domain.leads import (
    REQUIRED_COLUMNS,
    VALID_COLUMNS,
    DefaultAddress,
    NormalisedLeads,
    SeenCpfs,
    check_columns,
    normalise_leads,
)
from kroton_pipeline.domain.rejections import RejectionReason
from kroton_pipeline.domain.statuses import ENDED_WITHOUT_SUCCESS, Status
from kroton_pipeline.landing import ExportFile, read_export_chunks, sha256_of
from kroton_pipeline.settings import BusinessRules, erasure_keys, utcnow

log = logging.getLogger(__name__)


# New subscriptions are built and inserted this many at a time (bounds peak memory).
INSERT_SLICE_ROWS = 10_000


# The subscription columns an import writes: exactly what normalisation yields.
SUBSCRIPTION_FIELDS = VALID_COLUMNS


@dataclass
class ImportResult:
    """What one import did, for the asset's metadata and checks."""

    import_date: date
    file_name: str
    sha256: str
    rows_in: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # People whose earlier attempt ended without success, back as a new attempt (in created).
    returned: int = 0
    rejected: int = 0
    address_defaulted: int = 0
    rejections_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # The earlier import of the same date, when there was one (a re-delivery).
    previous_sha256: str | None = None
    previous_rows_in: int | None = None

    @property
    def redelivered(self) -> bool:
        """The date was imported before from different content."""
        return self.previous_sha256 is not None and self.previous_sha256 != self.sha256

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def balanced(self) -> bool:
        """Rows in = imported + rejected."""
        return self.rows_in == self.imported + self.rejected


def _python_value(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def _column_values(series: pd.Series) -> list[Any]:
    """One column as plain Python values, None where missing.

    Converted a column at a time: ``DataFrame.to_dict("records")`` boxes every cell of the
    Arrow-backed string columns one by one, which took ~7 of the ~11 s of a 100,000-row
    import (benchmarks/import_throughput.py).
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.dt.date.tolist()
    elif series.dtype == object:
        values = [_python_value(value) for value in series.tolist()]
    else:
        values = series.tolist()
    missing = series.isna().to_numpy()
    if missing.any():
        for index in np.flatnonzero(missing):
            values[index] = None
    return values


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    values = [_column_values(frame[column]) for column in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def import_export(
    engine: Engine,
    export: ExportFile | StagedBatch,
    rules: BusinessRules,
    run_id: str | None,
    default_address: DefaultAddress | None = None,
    content: bytes | None = None,
) -> ImportResult:
    """Import ``export`` (a landing file or Spark directory, or a staged batch) into the
    database and return what happened; ``content`` stands in for a single file's bytes.

    The export is read and imported in chunks of about ``CHUNK_ROWS`` rows, all in one
    transaction, so memory stays bounded whatever the file's size and a file that turns out
    unreadable half-way writes nothing. Raises ``MissingColumnsError`` (naming the columns)
    before anything is written when a required column is absent, and ``ExportUnreadable``
    for a file that cannot be read exactly.
    """
    started = time.monotonic()
    if content is not None:
        chunks, sha256 = read_export_chunks(content, export.fmt, export.name), sha256_of(content)
        del content
    else:
        chunks, sha256 = export.chunks(), export.digest()
    raw: pd.DataFrame | None = next(chunks)
    check_columns(raw)
    import_date = export.import_date
    result = ImportResult(import_date, export.name, sha256, rows_in=0)
    seen = SeenCpfs()
    reasons: Counter[str] = Counter()
    now = utcnow()

    with engine.begin() as conn:
        conn.execute(delete(LeadRejection).where(LeadRejection.import_date == import_date))
        while raw is not None:
            normalised = normalise_leads(
                raw,
                import_date=import_date,
                rules=rules,
                default_address=default_address or DefaultAddress(),
                seen=seen,
                limits=SUBSCRIPTION_LIMITS,
            )
            result.rows_in += len(raw)
            raw = None  # freed before the next chunk is read
            _import_chunk(conn, normalised, result, reasons, run_id, now)
            del normalised
            raw = next(chunks, None)
        if conn.dialect.name == "postgresql":
            record_created_at(conn, now, result.created, run_id)
        result.rejections_by_reason = dict(reasons)
        result.seconds = time.monotonic() - started

        previous = conn.execute(
            select(ImportFile.sha256, ImportFile.rows_in).where(
                ImportFile.import_date == import_date
            )
        ).first()
        if previous is not None:
            result.previous_sha256, result.previous_rows_in = previous

        upsert_rows(
            conn,
            ImportFile,
            [
                {
                    "import_date": import_date,
                    "file_name": export.name,
                    "sha256": result.sha256,
                    "rows_in": result.rows_in,
                    "imported": result.imported,
                    "rejected": result.rejected,
                    "run_id": run_id,
                    "imported_at": now,
                }
            ],
            ["import_date"],
        )
    log.info(
        "import %s: %d rows in, %d imported (%d new, %d of them returning), %d rejected",
        import_date,
        result.rows_in,
        result.imported,
        result.created,
        result.returned,
        result.rejected,
    )
    return result


def _import_chunk(
    conn: Connection,
    normalised: NormalisedLeads,
    result: ImportResult,
    reasons: Counter[str],
    run_id: str | None,
    now: datetime,
) -> None:
    """Write one chunk's subscriptions and rejections; add its counts to ``result``."""
    import_date = result.import_date
    valid, rejected = normalised.valid, normalised.rejected
    table = Subscription.__table__
    cpfs = valid["cpf"].tolist()
    latest = latest_attempts(conn, cpfs)
    erased = _erased(conn, cpfs)
    fate = classify_rows(cpfs, latest, erased, import_date)
    # Plain bool arrays: an empty object Series would select columns instead of rows.
    gone = fate == RowFate.ERASED
    earlier = fate == RowFate.ACTIVE_ELSEWHERE
    same_day = fate == RowFate.SAME_DAY
    returning = fate == RowFate.RETURNING
    # An erased person's row rejected for another reason (a bad phone, a repeat in the
    # file) keeps no personal data either: only its reason and row number.
    rejected_cpfs = [c for c in rejected["cpf"].tolist() if isinstance(c, str)]
    erased_rejected = _erased(conn, rejected_cpfs) if rejected_cpfs else set()
    rejections = _rejection_rows(
        rejected, valid[earlier], valid[gone], import_date, now, erased_rejected
    )

    new_leads = valid[(fate == RowFate.NEW) | returning].copy()
    new_leads["attempt_number"] = [
        1 if cpf not in latest else latest[cpf].attempt_number + 1
        for cpf in new_leads["cpf"].tolist()
    ]
    result.created += _insert_new_leads(conn, new_leads, import_date, now, run_id)
    result.returned += int(returning.sum())

    # Same date imported again: refresh the data of leads nothing has happened to yet.
    again = valid[same_day]
    refreshable = np.array(
        [latest[cpf].status == Status.TO_SYNC.value for cpf in again["cpf"].tolist()], bool
    )
    refresh_rows = _records(again[refreshable], SUBSCRIPTION_FIELDS)
    if refresh_rows:
        # By id: the CPF alone no longer names one subscription.
        columns = [key for key in refresh_rows[0] if key != "cpf"]
        columns += ["gender_source", "updated_at"]
        conn.execute(
            update(table)
            .where(table.c.id == bindparam("lead_id"))
            .values({column: bindparam(f"new_{column}") for column in columns}),
            [
                {"lead_id": latest[row["cpf"]].id}
                | {f"new_{column}": row[column] for column in columns if column in row}
                | {"new_gender_source": "export" if row["gender"] else None, "new_updated_at": now}
                for row in refresh_rows
            ],
        )
    result.updated += len(refresh_rows)
    result.unchanged += len(again) - len(refresh_rows)

    insert_rows(conn, LeadRejection, rejections)
    result.rejected += len(rejections)
    reasons.update(row["reason"] for row in rejections)
    result.address_defaulted += int(valid["address_defaulted"].sum()) if len(valid) else 0


def _insert_new_leads(
    conn: Connection, new_leads: pd.DataFrame, import_date: date, now: datetime, run_id: str | None
) -> int:
    """Insert new subscriptions (``to_sync``) with their first history row; their number.

    PostgreSQL: one ``COPY`` of the frame; the caller writes the history rows of the whole
    file at the end (the rows of one import share ``created_at``). Elsewhere: in slices of
    rows as dicts; holding every new row as a dict at once raised the peak memory of a
    100,000-row import by ~300 MB.
    """
    if conn.dialect.name == "postgresql":
        frame = new_leads.loc[:, [*SUBSCRIPTION_FIELDS, "attempt_number"]]
        frame["birthday"] = frame["birthday"].dt.strftime("%Y-%m-%d")
        frame["gender_source"] = frame["gender"].notna().map({True: "export", False: None})
        frame["import_date"] = import_date.isoformat()
        frame["status"] = Status.TO_SYNC.value
        frame["attempts"] = 0
        frame["created_at"] = frame["updated_at"] = now.isoformat()
        # The history rows are written once for the whole file (record_created_at).
        return copy_frame(conn, Subscription, frame)
    table = Subscription.__table__
    created = 0
    for start in range(0, len(new_leads), INSERT_SLICE_ROWS):
        new_rows = _records(
            new_leads.iloc[start : start + INSERT_SLICE_ROWS],
            (*SUBSCRIPTION_FIELDS, "attempt_number"),
        )
        for row in new_rows:
            row["gender_source"] = "export" if row["gender"] else None
            row.update(
                import_date=import_date,
                status=Status.TO_SYNC.value,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
        # Among to_sync rows the CPF is unique (one active subscription per CPF).
        inserted = insert_returning_ids(
            conn, table, new_rows, "cpf", where=table.c.status == Status.TO_SYNC.value
        )
        record_created(conn, inserted, run_id, now=now)
        created += len(new_rows)
    return created


def _erased(conn: Any, cpfs: list[str]) -> set[str]:
    """The CPFs among ``cpfs`` of people erased on request (LGPD)."""
    digests = set(conn.execute(select(ErasedPerson.cpf_digest)).scalars())
    if not digests:
        return set()
    return erased_among(cpfs, digests, erasure_keys())


def _rejection_rows(
    rejected: pd.DataFrame,
    already_imported: pd.DataFrame,
    erased: pd.DataFrame,
    import_date: date,
    now: datetime,
    erased_rejected: set[str] | None = None,
) -> list[dict[str, Any]]:
    erased_rejected = erased_rejected or set()
    rows = []
    for row in rejected.to_dict("records"):
        cpf = _python_value(row.get("cpf"))
        forget = cpf in erased_rejected
        rows.append(
            {
                "import_date": import_date,
                "row_number": int(row["row_number"]),
                "reason": str(row["reason"]),
                "detail": row.get("detail"),
                "cpf": None if forget else cpf,
                "raw": None if forget else row.get("raw"),
                "created_at": now,
            }
        )
    reason = RejectionReason.CPF_ALREADY_IMPORTED
    for row in already_imported.to_dict("records"):
        rows.append(
            {
                "import_date": import_date,
                "row_number": int(row["row_number"]),
                "reason": reason.value,
                "detail": "the CPF has an active subscription from an earlier date",
                "cpf": row["cpf"],
                "raw": _raw_of(row),
                "created_at": now,
            }
        )
    # Nothing of an erased person's row is kept, not even the CPF.
    for row_number in erased["row_number"].tolist():
        rows.append({
            "import_date": import_date, "row_number": int(row_number),
            "reason": RejectionReason.ERASED_ON_REQUEST.value, "detail": "erased on request",
            "cpf": None, "raw": None, "created_at": now,
        })  # fmt: skip
    return rows


def _raw_of(row: dict[str, Any]) -> dict[str, Any]:
    return {key: None if value is None else str(value) for key, value in row.items()}


STAGED_NAME = "incoming_leads"


@dataclass(frozen=True)
class StagedBatch:
    """One import date's complete batch in ``incoming_leads``."""

    engine: Engine
    import_date: date
    row_count: int
    completed_at: datetime | None

    @property
    def name(self) -> str:
        return f"{STAGED_NAME} {self.import_date.isoformat()}"

    def stamp(self) -> str:
        """Row count and completion time: changes when the batch is written again."""
        return f"batch:{self.row_count}:{self.completed_at}"

    def has_marker(self) -> bool:
        """Always: only complete batches are listed (:func:`complete_batches`)."""
        return True

    def is_empty(self) -> bool:
        """Never: a batch of 0 rows is a day without leads, imported as such."""
        return False

    def digest(self) -> str:
        return self.read()[1]

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The staged rows as one chunk (a day's batch is read at once)."""
        yield self.read()[0]

    def read(self) -> tuple[pd.DataFrame, str]:
        """The staged rows (``None`` read as an empty cell) and their SHA-256."""
        columns = [getattr(IncomingLead, name) for name in REQUIRED_COLUMNS]
        query = (
            select(*columns)
            .where(IncomingLead.import_date == self.import_date)
            .order_by(IncomingLead.id)
        )
        with self.engine.connect() as conn:
            rows = [["" if v is None else str(v) for v in row] for row in conn.execute(query)]
        frame = pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS), dtype=str)
        frame["row_number"] = range(1, len(frame) + 1)
        digest = hashlib.sha256()
        for row in rows:
            digest.update(json.dumps(row, ensure_ascii=False).encode() + b"\n")
        return frame, digest.hexdigest()


def complete_batches(engine: Engine) -> dict[date, StagedBatch]:
    """Every batch whose ``incoming_leads`` rows number exactly its ``row_count``."""
    staged = (
        select(IncomingLead.import_date, func.count().label("rows"))
        .group_by(IncomingLead.import_date)
        .subquery()
    )
    query = (
        select(IncomingBatch.import_date, IncomingBatch.row_count, IncomingBatch.completed_at)
        .outerjoin(staged, staged.c.import_date == IncomingBatch.import_date)
        .where(func.coalesce(staged.c.rows, 0) == IncomingBatch.row_count)
        .order_by(IncomingBatch.import_date)
    )
    with engine.connect() as conn:
        return {
            day: StagedBatch(engine, day, int(count), completed)
            for day, count, completed in conn.execute(query)
        }


def find_batch(engine: Engine, import_date: date) -> StagedBatch | None:
    """The complete batch of ``import_date``, or ``None``."""
    return complete_batches(engine).get(import_date)


class RowFate(IntEnum):
    NEW = 0
    RETURNING = 1
    SAME_DAY = 2
    ACTIVE_ELSEWHERE = 3
    ERASED = 4


@dataclass(frozen=True)
class Attempt:
    """A CPF's latest subscription."""

    id: int
    import_date: date
    status: str
    attempt_number: int

    @property
    def ended_without_success(self) -> bool:
        return self.status in ENDED_WITHOUT_SUCCESS


def latest_attempts(conn: Connection, cpfs: Sequence[str]) -> dict[str, Attempt]:
    """The latest attempt of each CPF among ``cpfs`` that has one.

    PostgreSQL takes the CPFs as one array parameter (``= ANY``): expanding 100,000 of them
    into ``IN`` lists cost ~0.5 s of compilation.
    """
    table = Subscription.__table__
    columns = (table.c.cpf, table.c.id, table.c.import_date, table.c.status, table.c.attempt_number)
    if not cpfs:
        return {}
    if conn.dialect.name == "postgresql":
        parameter = bindparam("cpfs", list(cpfs), type_=ARRAY(String))
        queries = [select(*columns).where(table.c.cpf == any_(parameter))]
    else:
        queries = [
            select(*columns).where(table.c.cpf.in_(chunk))
            for chunk in chunked(list(cpfs), in_list_size(conn))
        ]
    latest: dict[str, Attempt] = {}
    for query in queries:
        for cpf, sub_id, sub_date, status, number in conn.execute(query):
            known = latest.get(cpf)
            if known is None or number > known.attempt_number:
                latest[cpf] = Attempt(sub_id, sub_date, status, number)
    return latest


def classify_rows(
    cpfs: Sequence[str], latest: dict[str, Attempt], erased: set[str], import_date: date
) -> np.ndarray:
    """A :class:`RowFate` per CPF of the export's valid rows, in order."""
    fates = np.empty(len(cpfs), dtype=np.int8)
    for index, cpf in enumerate(cpfs):
        before = latest.get(cpf)
        if cpf in erased:
            fate = RowFate.ERASED
        elif before is None:
            fate = RowFate.NEW
        elif before.import_date == import_date:
            fate = RowFate.SAME_DAY
        elif before.ended_without_success:
            fate = RowFate.RETURNING
        else:
            fate = RowFate.ACTIVE_ELSEWHERE
        fates[index] = fate
    return fates
