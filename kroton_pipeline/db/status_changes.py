"""The only writer of ``subscriptions.status``, and of ``status_history``.

Every change is checked against the state machine (``domain.statuses``) before anything is
written, recorded in ``status_history`` with the Dagster run id, and written set-based: a
handful of statements per batch, whatever its size. The caller owns the transaction: run
these inside ``engine.begin()`` so that an error rolls back everything the batch wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy.types import BigInteger, String, Text

from kroton_pipeline.db.models import StatusHistory, Subscription
from kroton_pipeline.db.upserts import chunked, in_list_size, insert_rows
from kroton_pipeline.domain.statuses import (
    IllegalTransition,
    Status,
    StatusReason,
    check_transition,
)
from kroton_pipeline.timeutil import utcnow

SUBS = Subscription.__table__
HISTORY = StatusHistory.__table__
# Rows per UPDATE ... FROM json_to_recordset(...) statement on PostgreSQL.
PG_RECORDSET_ROWS = 5_000


class UnknownSubscription(LookupError):
    """A status change names a subscription id that does not exist."""


class ConcurrentStatusChange(RuntimeError):
    """Another writer changed a status between our read and our write; roll back and retry."""


@dataclass(frozen=True)
class StatusChange:
    """Move one subscription to ``to_status``, for ``reason`` (e.g. Kroton's message)."""

    subscription_id: int
    to_status: Status
    reason: str | None = None


def current_statuses(conn: Connection, ids: Iterable[int]) -> dict[int, Status]:
    """The current status of each existing subscription in ``ids`` (chunked ``IN`` lists)."""
    ids = list(dict.fromkeys(ids))
    found: dict[int, Status] = {}
    for chunk in chunked(ids, in_list_size(conn)):
        rows = conn.execute(select(SUBS.c.id, SUBS.c.status).where(SUBS.c.id.in_(chunk)))
        found.update((row.id, Status(row.status)) for row in rows)
    return found


def _validate(changes: Sequence[StatusChange], current: dict[int, Status]) -> None:
    seen: set[int] = set()
    for change in changes:
        if change.subscription_id in seen:
            raise ValueError(
                f"subscription {change.subscription_id} appears twice in one batch of changes"
            )
        seen.add(change.subscription_id)
        if change.subscription_id not in current:
            raise UnknownSubscription(f"subscription {change.subscription_id} does not exist")
        from_status = current[change.subscription_id]
        to_status = Status(change.to_status)
        if from_status is not to_status:
            try:
                check_transition(from_status, to_status)
            except IllegalTransition as exc:
                raise IllegalTransition(
                    f"subscription {change.subscription_id}: illegal status transition "
                    f"{from_status.value} -> {to_status.value}"
                ) from exc


def _update_moved(conn: Connection, moved: list[dict[str, Any]], now: datetime) -> int:
    """Write the new statuses, only where the status is still the one we read."""
    new_values = {
        "status": None,
        "status_reason": None,
        "updated_at": now,
        "attempts": 0,
        "last_error": None,
    }
    if conn.dialect.name == "postgresql":
        # One UPDATE ... FROM json_to_recordset(:rows) per chunk: executemany would be a round
        # trip per row, and a VALUES list costs PostgreSQL more to parse than to run.
        src = (
            func.json_to_recordset(bindparam("rows", type_=Text))
            .table_valued(
                sql_column("sid", BigInteger),
                sql_column("from_status", String),
                sql_column("to_status", String),
                sql_column("reason", Text),
            )
            .render_derived(name="src", with_types=True)
        )
        stmt = (
            update(SUBS)
            .where(SUBS.c.id == src.c.sid, SUBS.c.status == src.c.from_status)
            .values({**new_values, "status": src.c.to_status, "status_reason": src.c.reason})
        )
        total = 0
        for chunk in chunked(moved, PG_RECORDSET_ROWS):
            total += conn.execute(stmt, {"rows": json.dumps(list(chunk))}).rowcount
        return total
    # SQLite runs in-process: executemany of one compiled statement is already fast.
    stmt = (
        update(SUBS)
        .where(SUBS.c.id == bindparam("sid"), SUBS.c.status == bindparam("from_status"))
        .values(
            {**new_values, "status": bindparam("to_status"), "status_reason": bindparam("reason")}
        )
    )
    return conn.execute(stmt, moved).rowcount


def apply_status_changes(
    conn: Connection,
    changes: Sequence[StatusChange],
    run_id: str | None,
    now: datetime | None = None,
) -> int:
    """Apply ``changes`` set-based and return how many statuses actually moved.

    All changes are validated before anything is written: an illegal one raises
    :class:`IllegalTransition` naming the subscription id and both statuses, an unknown id
    :class:`UnknownSubscription`. A change to the status a subscription already has writes no
    history, only its ``status_reason``. A status that moves gets a ``status_history`` row and
    resets ``attempts`` and ``last_error`` (the retried step is over). If another writer moved
    one of these subscriptions meanwhile, :class:`ConcurrentStatusChange` is raised and the
    caller's transaction must roll back.
    """
    if not changes:
        return 0
    now = now or utcnow()
    current = current_statuses(conn, (change.subscription_id for change in changes))
    _validate(changes, current)

    moved: list[dict[str, Any]] = []
    unchanged: list[dict[str, Any]] = []
    for change in changes:
        from_status = current[change.subscription_id]
        to_status = Status(change.to_status)
        row = {
            "sid": change.subscription_id,
            "from_status": from_status.value,
            "to_status": to_status.value,
            "reason": change.reason,
        }
        (unchanged if from_status is to_status else moved).append(row)

    if moved:
        # Update first: a concurrent change is detected before any history is written.
        updated = _update_moved(conn, moved, now)
        if updated != len(moved):
            raise ConcurrentStatusChange(
                f"{len(moved) - updated} of {len(moved)} subscriptions changed status while "
                "this batch was being applied"
            )
        insert_rows(
            conn,
            HISTORY,
            [
                {
                    "subscription_id": row["sid"],
                    "from_status": row["from_status"],
                    "to_status": row["to_status"],
                    "reason": row["reason"],
                    "run_id": run_id,
                    "changed_at": now,
                }
                for row in moved
            ],
        )
    if unchanged:
        conn.execute(
            update(SUBS)
            .where(SUBS.c.id == bindparam("sid"), SUBS.c.status == bindparam("from_status"))
            .values(status_reason=bindparam("reason"), updated_at=now),
            [
                {"sid": row["sid"], "from_status": row["from_status"], "reason": row["reason"]}
                for row in unchanged
            ],
        )
    return len(moved)


def record_created(
    conn: Connection,
    subscription_ids: Iterable[int],
    run_id: str | None,
    now: datetime | None = None,
    reason: str | None = StatusReason.IMPORTED.value,
) -> int:
    """Write the first history row (``None`` -> ``to_sync``) of newly created subscriptions.

    Set-based: ``INSERT INTO status_history SELECT ... FROM subscriptions WHERE id IN (...)``.
    Raises :class:`IllegalTransition` if one of them is missing or not in ``to_sync``.
    """
    ids = list(dict.fromkeys(subscription_ids))
    if not ids:
        return 0
    now = now or utcnow()
    check_transition(None, Status.TO_SYNC)
    written = 0
    for chunk in chunked(ids, in_list_size(conn)):
        written += _first_history_rows(conn, SUBS.c.id.in_(chunk), run_id, reason, now)
    if written != len(ids):
        raise IllegalTransition(
            f"{len(ids) - written} of {len(ids)} new subscriptions are missing or not in "
            f"{Status.TO_SYNC.value}"
        )
    return written


def _first_history_rows(
    conn: Connection,
    which: ColumnElement[bool],
    run_id: str | None,
    reason: str | None,
    changed_at: datetime,
) -> int:
    """``None`` -> ``to_sync`` history rows for the subscriptions ``which`` selects among
    those in ``to_sync``: one ``INSERT ... SELECT``; the number written."""
    source = select(
        SUBS.c.id,
        literal(None, String).label("from_status"),
        SUBS.c.status,
        literal(reason, Text),
        literal(run_id, String),
        literal(changed_at),
    ).where(which, SUBS.c.status == Status.TO_SYNC.value)
    return conn.execute(
        insert(HISTORY).from_select(
            ["subscription_id", "from_status", "to_status", "reason", "run_id", "changed_at"],
            source,
        )
    ).rowcount


def record_created_at(
    conn: Connection,
    created_at: datetime,
    expected: int,
    run_id: str | None,
    reason: str | None = StatusReason.IMPORTED.value,
) -> int:
    """:func:`record_created` for every subscription created at ``created_at`` (one import's
    rows, written in bulk): one ``INSERT ... SELECT``. Raises :class:`IllegalTransition`
    unless exactly ``expected`` of them are found in ``to_sync``."""
    if expected == 0:
        return 0
    check_transition(None, Status.TO_SYNC)
    written = _first_history_rows(conn, SUBS.c.created_at == created_at, run_id, reason, created_at)
    if written != expected:
        raise IllegalTransition(
            f"{written} subscriptions created at {created_at.isoformat()} in "
            f"{Status.TO_SYNC.value}, {expected} expected"
        )
    return written


def transition_where(
    conn: Connection,
    where_clause: ColumnElement[bool],
    to_status: Status,
    reason: str | None,
    run_id: str | None,
    now: datetime | None = None,
) -> int:
    """Move every subscription matching ``where_clause`` to ``to_status``; return the count.

    The distinct current statuses of the matching rows are validated first (one ``GROUP BY``)
    so an illegal transition raises before anything is written. Then one ``INSERT ... SELECT``
    writes the history and one ``UPDATE`` the statuses. Rows already in ``to_status`` only get
    the new ``status_reason``. A concurrent writer is detected by comparing both row counts.
    """
    to = Status(to_status)
    now = now or utcnow()
    counts = conn.execute(
        select(SUBS.c.status, func.count()).where(where_clause).group_by(SUBS.c.status)
    ).all()
    sources = sorted(Status(status) for status, _count in counts if status != to.value)
    for source in sources:
        try:
            check_transition(source, to)
        except IllegalTransition:
            count = next(n for status, n in counts if status == source.value)
            raise IllegalTransition(
                f"{count} subscription(s): illegal status transition {source.value} -> {to.value}"
            ) from None
    expected = sum(n for status, n in counts if status != to.value)

    if len(sources) < len(counts):
        # Before the move, so that rows moving now are not touched twice.
        conn.execute(
            update(SUBS)
            .where(where_clause, SUBS.c.status == to.value)
            .values(status_reason=reason, updated_at=now)
        )
    moving = [where_clause, SUBS.c.status.in_([s.value for s in sources])]
    if expected:
        history = select(
            SUBS.c.id,
            SUBS.c.status,
            literal(to.value, String),
            literal(reason, Text),
            literal(run_id, String),
            literal(now),
        ).where(*moving)
        inserted = conn.execute(
            insert(HISTORY).from_select(
                ["subscription_id", "from_status", "to_status", "reason", "run_id", "changed_at"],
                history,
            )
        ).rowcount
        updated = conn.execute(
            update(SUBS)
            .where(*moving)
            .values(
                status=to.value,
                status_reason=reason,
                updated_at=now,
                attempts=0,
                last_error=None,
            )
        ).rowcount
        if not inserted == updated == expected:
            raise ConcurrentStatusChange(
                f"expected {expected} subscriptions to move to {to.value}, history has "
                f"{inserted} and the update touched {updated}: another writer was active"
            )
    return expected


def record_event(
    conn: Connection,
    subscription_ids: Iterable[int],
    reason: str,
    run_id: str | None,
    now: datetime | None = None,
) -> int:
    """A lifecycle event that leaves the status as it is (tracking ended): one
    ``status_history`` row per subscription with ``from_status = to_status``, and the reason
    as the subscription's ``status_reason``, so that it is never silent."""
    ids = list(dict.fromkeys(subscription_ids))
    now = now or utcnow()
    written = 0
    for chunk in chunked(ids, in_list_size(conn)):
        source = select(
            SUBS.c.id,
            SUBS.c.status,
            SUBS.c.status,
            literal(reason, Text),
            literal(run_id, String),
            literal(now),
        ).where(SUBS.c.id.in_(chunk))
        written += conn.execute(
            insert(HISTORY).from_select(
                ["subscription_id", "from_status", "to_status", "reason", "run_id", "changed_at"],
                source,
            )
        ).rowcount
        conn.execute(
            update(SUBS).where(SUBS.c.id.in_(chunk)).values(status_reason=reason, updated_at=now)
        )
    return written
