"""The registration success rate of an import date, as an asset check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg
from sqlalchemy import Engine, func, select

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.domain.statuses import Status

ACCEPTED = (Status.AWAITING_REGISTER, Status.REGISTERED, Status.ENROLLED, Status.DROPPED)


def registration_success_rate(engine: Engine, dates: Sequence[date]) -> tuple[int, int]:
    """(accepted, decided): leads Kroton accepted vs leads whose registration was decided.

    Decided = accepted + register_failed (Kroton refused) + failed (processing error).
    register_failed for an unknown gender counts too: it is a lead we could not register.
    """
    accepted_values = [status.value for status in ACCEPTED]
    decided_values = [*accepted_values, Status.REGISTER_FAILED.value, Status.FAILED.value]
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(Subscription.status, func.count())
                .where(
                    Subscription.import_date.in_(list(dates)),
                    Subscription.status.in_(decided_values),
                )
                .group_by(Subscription.status)
            ).all()
        )
    accepted = sum(count for status, count in rows.items() if status in accepted_values)
    return accepted, sum(rows.values())


def success_rate_check(
    engine: Engine, dates: Sequence[date], threshold: float
) -> dg.AssetCheckResult:
    accepted, decided = registration_success_rate(engine, dates)
    rate = accepted / decided if decided else 1.0
    return dg.AssetCheckResult(
        check_name="registration_success_rate",
        passed=rate >= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "success_rate": dg.MetadataValue.float(round(rate, 4)),
            "threshold": dg.MetadataValue.float(threshold),
            "accepted": accepted,
            "decided": decided,
        },
    )
