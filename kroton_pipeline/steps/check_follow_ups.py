"""checker: the daily follow-up of every tracked lead.

Tracked leads are those Kroton still moves (``awaiting_register``, ``registered``) whose next
check is due. Each gets one look-up: the processing state while pending, the CPF look-up
(classification) once registered. The answer is kept as a snapshot for the day, the
follow-up keeps Kroton's full answer, and the status follows the classification table; an
unknown classification keeps the status and raises a warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update

from kroton_pipeline.clients.kroton import KrotonApi
from kroton_pipeline.clients.transport import AuthenticationFailed, KrotonError
from kroton_pipeline.db.engine import upsert_rows
from kroton_pipeline.db.models import FollowUpSnapshot, Subscription
from kroton_pipeline.db.status_changes import (
    DEFAULT_TTL_SECONDS,
    ClaimLost,
    LeadClaims,
    new_owner,
    not_erased,
    record_event,
    record_kroton_answer,
)
from kroton_pipeline.domain.kroton_api import TrackingRules, next_look, tracking_ended_reason
from kroton_pipeline.domain.statuses import TRACKED, Status, StatusReason, reason
from kroton_pipeline.settings import utcnow

log = logging.getLogger(__name__)


@dataclass
class FollowUpResult:
    snapshot_date: date
    due: int = 0
    checked: int = 0
    changed: dict[str, int] = field(default_factory=dict)
    unknown_classifications: int = 0
    failures: int = 0
    tracking_ended: int = 0  # intake over: followed no more, with a status_history row
    deferred: int = 0  # due, but beyond the day's follow-up cap: first in line tomorrow
    claimed_elsewhere: int = 0  # another run was checking it
    claims_lost: int = 0
    classifications: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _due(snapshot_date: date, ignore_schedule: bool) -> Any:
    # next_check_on NULL after a first check means tracking ended (kroton_records).
    never_checked = and_(Subscription.next_check_on.is_(None), Subscription.last_check.is_(None))
    scheduled = (
        Subscription.next_check_on.is_not(None)
        if ignore_schedule
        else Subscription.next_check_on <= snapshot_date
    )
    return and_(
        Subscription.status.in_([status.value for status in TRACKED]),
        or_(never_checked, scheduled),
    )


def count_due(engine: Engine, snapshot_date: date, ignore_schedule: bool = False) -> int:
    """How many tracked leads are due on ``snapshot_date``."""
    with engine.connect() as conn:
        query = select(func.count()).select_from(Subscription)
        return int(conn.execute(query.where(_due(snapshot_date, ignore_schedule))).scalar_one())


def due_leads(
    engine: Engine, snapshot_date: date, limit: int | None = None, ignore_schedule: bool = False
) -> list[dict[str, Any]]:
    """Tracked leads due on ``snapshot_date``, in priority order, at most ``limit``.

    Pending first, then the most overdue, then the longest unseen: when the day's cap is
    reached, whoever waits is the lead that can best afford it, and nobody starves.
    ``ignore_schedule`` takes every tracked lead whose tracking has not ended.
    """
    query = (
        select(Subscription)
        .where(_due(snapshot_date, ignore_schedule))
        .order_by(
            (Subscription.status == Status.AWAITING_REGISTER.value).desc(),
            Subscription.next_check_on.asc().nulls_first(),
            Subscription.last_check.asc().nulls_first(),
            Subscription.id,
        )
    )
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def check_follow_ups(
    engine: Engine,
    kroton: KrotonApi,
    snapshot_date: date,
    run_id: str | None,
    *,
    limit: int | None = None,
    ignore_schedule: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    claim_ttl_seconds: float = DEFAULT_TTL_SECONDS,
    tracking: TrackingRules | None = None,
) -> FollowUpResult:
    """Ask Kroton about every tracked lead due on ``snapshot_date`` and record the answers.

    Each lead is claimed first (``db.status_changes``) and re-read: a lead another run is checking,
    or whose personal data was erased meanwhile, is skipped.
    """
    started = time.monotonic()
    result = FollowUpResult(snapshot_date)
    leads = due_leads(engine, snapshot_date, limit, ignore_schedule)
    result.due = len(leads)
    if limit is not None and len(leads) == limit:
        result.deferred = count_due(engine, snapshot_date, ignore_schedule) - len(leads)
    claims = LeadClaims(engine, new_owner(run_id), claim_ttl_seconds)
    still_due = (_due(snapshot_date, ignore_schedule), not_erased())
    for done, listed in enumerate(leads, start=1):
        with claims.hold(listed["id"], *still_due) as lead:
            if lead is None:
                result.claimed_elsewhere += 1
                continue
            try:
                _check_one(
                    engine,
                    kroton,
                    claims,
                    lead,
                    snapshot_date,
                    run_id,
                    result,
                    tracking or TrackingRules(),
                )
            except AuthenticationFailed:
                raise
            except ClaimLost:
                result.claims_lost += 1
            except KrotonError as exc:
                result.failures += 1
                claims.note_failed_attempt(lead["id"], f"checker: {type(exc).__name__}")
        if progress:
            progress("checker", done, len(leads))
    result.seconds = time.monotonic() - started
    log.info(
        "checker %s: %d due, %d checked, changes %s, %d unknown classifications",
        snapshot_date,
        result.due,
        result.checked,
        result.changed,
        result.unknown_classifications,
    )
    return result


def _check_one(
    engine: Engine,
    kroton: KrotonApi,
    claims: LeadClaims,
    lead: dict[str, Any],
    snapshot_date: date,
    run_id: str | None,
    result: FollowUpResult,
    tracking: TrackingRules,
) -> None:
    """One look-up for one claimed lead; its snapshot, follow-up and status, under the claim;
    then its next look, or the end of its tracking when its intake is over."""
    if lead["status"] == Status.AWAITING_REGISTER.value and lead["kroton_subscription_id"]:
        answer = kroton.inscription_status(lead["kroton_subscription_id"], lead["kroton_system"])
    else:
        answer = kroton.inscriptions_by_cpf(lead["cpf"])
    result.checked += 1
    now = utcnow()
    view = answer.followed(lead["kroton_subscription_id"])
    status: Status | None = Status(lead["status"])
    with engine.begin() as conn:
        claims.require(lead["id"], conn)
        if view is None:
            log.warning("subscription %s: Kroton holds no inscription for it", lead["id"])
            internal = lead["status"]
        else:
            if view.unknown_classification:
                result.unknown_classifications += 1
            status = view.status
            why = (
                reason(StatusReason.PROCESSING_ERROR, view.message)
                if status is Status.FAILED
                else reason(StatusReason.FOLLOW_UP, view.classification or view.processing)
            )
            recorded = record_kroton_answer(conn, lead, view, status, answer.raw, why, run_id, now)
            internal = str(recorded or lead["status"])
            if recorded is not None and recorded.value != lead["status"]:
                result.changed[recorded.value] = result.changed.get(recorded.value, 0) + 1
            status = recorded or Status(lead["status"])
            if view.classification:
                key = view.classification
                result.classifications[key] = result.classifications.get(key, 0) + 1
        upsert_rows(
            conn,
            FollowUpSnapshot,
            [
                {
                    "subscription_id": lead["id"],
                    "snapshot_date": snapshot_date,
                    "classification": (view.classification or "")[:40] or None if view else None,
                    "processing_status": (view.processing or "")[:16] or None if view else None,
                    "internal_status": internal,
                    "source": answer.raw,
                    "created_at": now,
                }
            ],
            ["subscription_id", "snapshot_date"],
        )
        intake_ends_on = (view.intake_ends_on if view else None) or lead["intake_ends_on"]
        following = (
            next_look(
                snapshot_date,
                lead.get("registered_at") or (now if status is Status.REGISTERED else None),
                view.classification if view else lead["kroton_classification"],
                intake_ends_on,
                tracking,
            )
            if status in TRACKED
            else None  # a final status: the story has ended
        )
        if following is None and status in TRACKED:
            result.tracking_ended += 1
            record_event(conn, [lead["id"]], tracking_ended_reason(intake_ends_on), run_id, now=now)
        conn.execute(
            update(Subscription)
            .where(Subscription.id == lead["id"])
            .values(next_check_on=following, last_check=now, intake_ends_on=intake_ends_on)
        )
