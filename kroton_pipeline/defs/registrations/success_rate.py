"""The registration success rate of an import date, as an asset check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg
from sqlalchemy import Engine, func, select

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.steps.register_leads import KROTON_REFUSAL

ACCEPTED = (Status.AWAITING_REGISTER, Status.REGISTERED, Status.ENROLLED, Status.DROPPED)
KROTON_REFUSAL_PREFIX = KROTON_REFUSAL


def registration_success_rate(engine: Engine, dates: Sequence[date]) -> tuple[int, int, int]:
    """(accepted, sent, never_sent) for the leads of ``dates``.

    Sent = accepted + refused by Kroton (register_failed with Kroton's message) + failed in
    Kroton's processing. Leads that never reached Kroton (gender unknown, invalid payload,
    erased) are a data-quality matter, counted apart, not a registration failure.
    """
    accepted_values = [status.value for status in ACCEPTED]
    query = (
        select(
            Subscription.status,
            Subscription.status_reason.like(f"{KROTON_REFUSAL_PREFIX}%"),
            func.count(),
        )
        .where(
            Subscription.import_date.in_(list(dates)),
            Subscription.status.in_(
                [*accepted_values, Status.REGISTER_FAILED.value, Status.FAILED.value]
            ),
        )
        .group_by(Subscription.status, Subscription.status_reason.like(f"{KROTON_REFUSAL_PREFIX}%"))
    )
    accepted = sent = never_sent = 0
    with engine.connect() as conn:
        for status, refused_by_kroton, count in conn.execute(query):
            if status in accepted_values:
                accepted += count
                sent += count
            elif status == Status.FAILED.value or refused_by_kroton:
                sent += count
            else:
                never_sent += count
    return accepted, sent, never_sent


def success_rate_check(
    engine: Engine, dates: Sequence[date], threshold: float
) -> dg.AssetCheckResult | None:
    """The check's result for ``dates``; None when no lead of theirs reached Kroton (a rate of
    nothing passes nothing, so the check is not evaluated)."""
    accepted, decided, never_sent = registration_success_rate(engine, dates)
    if not decided:
        return None
    rate = accepted / decided
    return dg.AssetCheckResult(
        check_name="registration_success_rate",
        passed=rate >= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "success_rate": dg.MetadataValue.float(round(rate, 4)),
            "threshold": dg.MetadataValue.float(threshold),
            "accepted": accepted,
            "sent": decided,
            "never_sent": never_sent,
        },
    )
