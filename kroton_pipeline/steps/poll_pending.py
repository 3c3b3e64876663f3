"""Polling pending inscriptions (``awaiting_register``) until Kroton has processed them.

Part of the registration pass. Each pending lead is claimed (``db.claims``), asked about by
its inscription id (by CPF when the registration answer gave no id, never for an erased
person), and the answer is recorded under the claim: ``registered`` or ``failed`` (with
Kroton's message), or still pending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, or_, select, update

from kroton_pipeline.clients.kroton import KrotonApi
from kroton_pipeline.clients.transport import AuthenticationFailed, KrotonError
from kroton_pipeline.db.claims import ClaimLost, LeadClaims
from kroton_pipeline.db.follow_ups import record_kroton_answer
from kroton_pipeline.db.models import Subscription
from kroton_pipeline.domain.erased import is_erased
from kroton_pipeline.domain.kroton_api import InscriptionsAnswer, person_status
from kroton_pipeline.domain.leads import scrub
from kroton_pipeline.domain.statuses import Status, StatusReason, reason
from kroton_pipeline.timeutil import utcnow

if TYPE_CHECKING:
    from kroton_pipeline.steps.register_leads import RegistrationResult

log = logging.getLogger(__name__)
S = Subscription.__table__


def _ask(kroton: KrotonApi, lead: dict[str, Any]) -> InscriptionsAnswer | None:
    if lead["kroton_subscription_id"]:
        return kroton.inscription_status(lead["kroton_subscription_id"], lead["kroton_system"])
    if is_erased(lead["cpf"]):  # and Kroton never told us its id
        return None
    return kroton.inscriptions_by_cpf(lead["cpf"])


def poll_pending(
    engine: Engine,
    kroton: KrotonApi,
    import_date: date,
    claims: LeadClaims,
    run_id: str | None,
    poll_after: timedelta,
    result: RegistrationResult,
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    """Ask Kroton about the date's pending inscriptions and record what they became."""
    # A lead Kroton answered moments ago has not moved yet: asking again wastes budget.
    checked_before = utcnow() - poll_after
    due = (
        S.c.import_date == import_date,
        S.c.status == Status.AWAITING_REGISTER.value,
        or_(S.c.last_check.is_(None), S.c.last_check <= checked_before),
    )
    with engine.connect() as conn:
        ids = list(conn.execute(select(S.c.id).where(*due).order_by(S.c.id)).scalars())
    for done, sub_id in enumerate(ids, start=1):
        with claims.hold(sub_id, *due) as lead:
            if lead is None:
                result.claimed_elsewhere += 1
                continue
            try:
                _poll_one(engine, kroton, claims, lead, run_id, result)
            except AuthenticationFailed:
                raise
            except ClaimLost:
                result.claims_lost += 1
            except KrotonError as exc:
                result.transient_failures += 1
                with engine.begin() as conn:
                    claims.require(sub_id, conn)
                    conn.execute(
                        update(S)
                        .where(S.c.id == sub_id)
                        .values(attempts=S.c.attempts + 1, last_error=f"poll: {type(exc).__name__}")
                    )
        if progress:
            progress("poll", done, len(ids))


def _poll_one(
    engine: Engine,
    kroton: KrotonApi,
    claims: LeadClaims,
    lead: dict[str, Any],
    run_id: str | None,
    result: RegistrationResult,
) -> None:
    answer = _ask(kroton, lead)
    result.polled += 1
    inscription = answer.best() if answer is not None else None
    if answer is None or inscription is None:
        log.warning("subscription %s: Kroton holds no inscription yet", lead["id"])
        return
    status = person_status(answer)
    why = (
        reason(StatusReason.PROCESSING_ERROR, scrub(inscription.message or ""))
        if status is Status.FAILED
        else reason(StatusReason.PROCESSING_SUCCEEDED)
    )
    with engine.begin() as conn:
        claims.require(lead["id"], conn)
        recorded = record_kroton_answer(
            conn, lead, inscription, status, answer.raw, why, run_id, utcnow()
        )
    outcome = str(recorded or lead["status"])
    result.poll_outcomes[outcome] = result.poll_outcomes.get(outcome, 0) + 1
    if recorded is not None and recorded is not Status.AWAITING_REGISTER:
        result.resolved_pending += 1
