"""Every change to a lead's status, the follow-up records of Kroton's answers, and the claims
that make each action happen once.

Sections, in the order of the code:

**status_changes**: The only writer of ``subscriptions.status``, and of ``status_history``.

Every change is checked against the state machine (``domain.statuses``) before anything is
written, recorded in ``status_history`` with the Dagster run id, and written set-based: a
handful of statements per batch, whatever its size. The caller owns the transaction: run
these inside ``engine.begin()`` so that an error rolls back everything the batch wrote.

**follow_ups**: Recording what Kroton said about a subscription: follow-up, ids and status, in
one place.

Kroton's answer is stored exactly as received (``follow_ups.source``); the ids and the
classification come from the typed view the domain read it into; the status moves through
the state machine (``db.status_changes``), one ``status_history`` row per step.

**claims**: Claims on leads: the one rule that makes every action on a lead happen once.

Any action that talks to Kroton about a lead (register, reconcile, poll, follow-up) or
erases it first *claims* the lead's ``subscriptions`` row with a compare-and-set::

    UPDATE subscriptions SET claimed_by = :me, claim_expires_at = <db now + ttl>
     WHERE id = :id AND <the state the action expects>
       AND (claimed_by IS NULL OR claim_expires_at <= <db now> OR claimed_by = :me)

One writer wins; the others skip the lead. The row is re-read under the claim, so nothing is
built or sent from data read before it (an erasure, a status change by another run). Before a
request that changes something at Kroton the holder renews the claim, and gives up if it has
lost it, so only the holder ever sends. A claim carries its owner (run id + a random tag) and
an expiry taken from the *database's* clock, so hosts whose clocks differ agree on it; the
claim of a run that died expires and the lead is taken again (and reconciled when it was
marked as sent). The database, not Dagster's scheduling, is the guard: two runs of the same
job, two deployments or a second daemon on one database still send each lead once.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy.types import BigInteger, String, Text

from kroton_pipeline.db.engine import chunked, in_list_size, insert_rows, upsert_rows
from kroton_pipeline.db.models import FollowUp, StatusHistory, Subscription
from kroton_pipeline.domain.kroton_api import Inscription
from kroton_pipeline.domain.statuses import (
    IllegalTransition,
    Status,
    StatusReason,
    check_transition,
    status_path,
)
from kroton_pipeline.settings import utcnow

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


log = logging.getLogger(__name__)


def record_kroton_answer(
    conn: Connection,
    subscription: Mapping[str, Any],
    inscription: Inscription,
    status: Status | None,
    source: Any,
    reason: str,
    run_id: str | None,
    now: datetime,
    enrolment_source: Any = None,
) -> Status | None:
    """Store Kroton's answer for ``subscription`` and move its status to ``status``.

    ``inscription`` gives the ids and classification to keep; ``status`` is what the answer
    means (``None``: unknown, the status is kept with a warning). Returns the new status,
    or ``None`` when the status was kept (unmapped, or not a move the machine allows).
    """
    sub_id = subscription["id"]
    upsert_rows(
        conn,
        FollowUp,
        [
            {
                "subscription_id": sub_id,
                "kroton_subscription_id": inscription.inscription_id,
                "kroton_subscription_dealer_id": inscription.dealer_id,
                "source": source,
                "enrolment_source": enrolment_source,
                "created_at": now,
                "updated_at": now,
            }
        ],
        ["subscription_id"],
        update_cols=[
            "kroton_subscription_id",
            "kroton_subscription_dealer_id",
            "source",
            "enrolment_source",
            "updated_at",
        ],
    )
    values: dict[str, Any] = {"last_check": now, "updated_at": now}
    if inscription.inscription_id:
        values["kroton_subscription_id"] = inscription.inscription_id
    if inscription.system:
        values["kroton_system"] = inscription.system
    if inscription.classification:
        values["kroton_classification"] = inscription.classification[:40]
    current = Status(subscription["status"])
    new_status: Status | None = None
    if status is None:
        log.warning(
            "subscription %s: unknown Kroton classification %r, status kept",
            sub_id,
            inscription.classification,
        )
    else:
        path = status_path(current, status)
        if path is None:
            log.warning(
                "subscription %s: Kroton reports %s while the lead is %s; status kept",
                sub_id,
                status,
                current,
            )
        else:
            for step in path:
                apply_status_changes(conn, [StatusChange(sub_id, step, reason)], run_id, now=now)
            new_status = status
            if Status.REGISTERED in path and subscription.get("registered_at") is None:
                values["registered_at"] = now
    conn.execute(update(Subscription).where(Subscription.id == sub_id).values(**values))
    return new_status


S = Subscription.__table__


# Long enough for a look-up, a POST at its longest timeout and the recording of its answer;
# the holder renews it before each request that changes something at Kroton.
DEFAULT_TTL_SECONDS = 600.0


class ClaimLost(RuntimeError):
    """The claim on a lead expired and another owner took it: stop, send nothing more."""


def db_now(conn: Connection | Engine) -> ColumnElement[Any]:
    """The database server's current time as naive UTC (SQLite: this host's clock)."""
    if conn.dialect.name == "postgresql":
        return func.timezone("UTC", func.clock_timestamp())
    # Six fractional digits, the form SQLAlchemy stores DateTime in on SQLite.
    return func.strftime("%Y-%m-%d %H:%M:%f", "now").concat(literal("000"))


def db_later(conn: Connection | Engine, seconds: float) -> ColumnElement[Any]:
    """The database server's time ``seconds`` from now (naive UTC)."""
    if conn.dialect.name == "postgresql":
        return func.timezone("UTC", func.clock_timestamp()) + func.make_interval(
            0, 0, 0, 0, 0, 0, float(seconds)
        )
    return func.strftime("%Y-%m-%d %H:%M:%f", "now", f"+{float(seconds):.3f} seconds").concat(
        literal("000")
    )


def new_owner(run_id: str | None) -> str:
    """A claim owner: the Dagster run id (or ``local``) plus a tag unique to this process."""
    return f"{(run_id or 'local')[:48]}:{uuid.uuid4().hex[:12]}"


def not_erased() -> ColumnElement[bool]:
    """Rows whose personal data was not erased (an erased CPF starts with ``X``)."""
    return S.c.cpf.not_like("X%")


class LeadClaims:
    """Claims taken by one owner (one run of one step) on ``subscriptions`` rows."""

    def __init__(
        self, engine: Engine, owner: str, ttl_seconds: float = DEFAULT_TTL_SECONDS
    ) -> None:
        self.engine = engine
        self.owner = owner
        self.ttl_seconds = float(ttl_seconds)

    # -- conditions ------------------------------------------------------------------------
    def _free_or_mine(self, conn: Connection) -> ColumnElement[bool]:
        return or_(
            S.c.claimed_by.is_(None),
            S.c.claim_expires_at <= db_now(conn),
            S.c.claimed_by == self.owner,
        )

    def held(self, conn: Connection) -> ColumnElement[bool]:
        """Rows this owner holds a live claim on (for compare-and-set writes)."""
        return and_(S.c.claimed_by == self.owner, S.c.claim_expires_at > db_now(conn))

    # -- taking, renewing, releasing ---------------------------------------------------------
    def take(self, sub_id: int, *conditions: ColumnElement[bool]) -> dict[str, Any] | None:
        """Claim the lead if it still matches ``conditions`` and nobody else holds it; return
        the row as re-read under the claim, or ``None`` (not claimable: skip it)."""
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(S)
                .where(S.c.id == sub_id, *conditions, self._free_or_mine(conn))
                .values(claimed_by=self.owner, claim_expires_at=db_later(conn, self.ttl_seconds))
            ).rowcount
            if taken != 1:
                return None
            row = conn.execute(select(Subscription).where(Subscription.id == sub_id)).mappings()
            return dict(row.one())

    def renew(self, sub_id: int, conn: Connection | None = None) -> bool:
        """Extend a live claim of this owner; False when it expired or another owner took it."""
        if conn is None:
            with self.engine.begin() as own:
                return self.renew(sub_id, own)
        return (
            conn.execute(
                update(S)
                .where(S.c.id == sub_id, self.held(conn))
                .values(claim_expires_at=db_later(conn, self.ttl_seconds))
            ).rowcount
            == 1
        )

    def require(self, sub_id: int, conn: Connection | None = None) -> None:
        """Renew the claim or raise :class:`ClaimLost` (call before sending, and inside the
        transaction that records an answer)."""
        if not self.renew(sub_id, conn):
            raise ClaimLost(f"subscription {sub_id}: claim lost before it could be used")

    def note_failed_attempt(self, sub_id: int, error: str, **values: Any) -> None:
        """One more attempt on the lead, and why it failed (``error``: a kind, never a
        message that could quote personal data), written only while the claim is ours;
        ``values`` are further columns to set."""
        with self.engine.begin() as conn:
            self.require(sub_id, conn)
            conn.execute(
                update(S)
                .where(S.c.id == sub_id)
                .values(attempts=S.c.attempts + 1, last_error=error, **values)
            )

    def release(self, sub_id: int) -> None:
        """Give the lead back (a no-op when the claim is no longer this owner's)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(S)
                .where(S.c.id == sub_id, S.c.claimed_by == self.owner)
                .values(claimed_by=None, claim_expires_at=None)
            )

    @contextmanager
    def hold(
        self, sub_id: int, *conditions: ColumnElement[bool]
    ) -> Iterator[dict[str, Any] | None]:
        """``with claims.hold(id, ...) as lead``: the re-read row (or ``None``), released after.

        A process that dies while holding a lead leaves the claim to expire.
        """
        lead = self.take(sub_id, *conditions)
        try:
            yield lead
        finally:
            if lead is not None:
                self.release(sub_id)

    def wait_and_take(
        self,
        sub_id: int,
        *conditions: ColumnElement[bool],
        timeout_seconds: float | None = None,
        poll_seconds: float = 0.2,
    ) -> dict[str, Any] | None:
        """Take the lead, waiting while another owner's live claim holds it (at most
        ``timeout_seconds``, default one TTL and a little: a dead owner's claim expires)."""
        deadline = time.monotonic() + (
            timeout_seconds if timeout_seconds is not None else self.ttl_seconds + 5
        )
        while True:
            lead = self.take(sub_id, *conditions)
            if lead is not None:
                return lead
            with self.engine.connect() as conn:
                exists = conn.execute(select(S.c.id).where(S.c.id == sub_id, *conditions)).first()
            if exists is None or time.monotonic() >= deadline:
                return None
            time.sleep(poll_seconds)
