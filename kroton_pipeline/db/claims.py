"""Claims on leads: the one rule that makes every action on a lead happen once.

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

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, literal, or_, select, update

from kroton_pipeline.db.models import Subscription

log = logging.getLogger(__name__)

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
