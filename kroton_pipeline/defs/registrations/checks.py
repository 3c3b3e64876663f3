"""The asset checks of ``registrations``: success rate and stuck leads of an import date.

Sections, in the order of the code:

**success_rate**: The registration success rate of an import date, as an asset check.

**stuck_check**: Stuck leads of an import date, as an asset check of ``registrations``.

Leads still before ``registered`` more than ``KROTON_STUCK_AFTER_HOURS`` after import, or
``awaiting_register`` longer than ``KROTON_STUCK_AWAITING_HOURS``: the design document's
"aluno não inscrito após 48h", found before anyone asks (``reporting.stuck_leads``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg
from sqlalchemy import Engine

from kroton_pipeline.reporting.stuck_leads import find_stuck_leads
from kroton_pipeline.reporting.success_rate import registration_success
from kroton_pipeline.settings import StuckThresholds, utcnow


def success_rate_check(
    engine: Engine, dates: Sequence[date], threshold: float
) -> dg.AssetCheckResult | None:
    """Share of the dates' sent leads that Kroton accepted, warning below ``threshold``;
    None when no lead of theirs reached Kroton (a rate of nothing passes nothing, so the
    check is not evaluated)."""
    with engine.connect() as conn:
        figures = registration_success(conn, dates)
    if figures.rate is None:
        return None
    rate = figures.rate
    return dg.AssetCheckResult(
        check_name="registration_success_rate",
        passed=rate >= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "success_rate": dg.MetadataValue.float(round(rate, 4)),
            "threshold": dg.MetadataValue.float(threshold),
            "accepted": figures.accepted,
            "sent": figures.sent,
            "never_sent": figures.never_sent,
        },
    )


STUCK_LEADS_CHECK = dg.AssetCheckSpec(
    "no_stuck_leads",
    asset="registrations",
    description=(
        "No lead of the date is still before registered more than KROTON_STUCK_AFTER_HOURS "
        "(24) after import, nor awaiting_register longer than KROTON_STUCK_AWAITING_HOURS (6); "
        "warns with the leads by status and reason, and their ids."
    ),
)


def stuck_leads_check(
    engine: Engine, day: date, thresholds: StuckThresholds
) -> dg.AssetCheckResult:
    """The check's result for one import date, now."""
    with engine.connect() as conn:
        stuck = find_stuck_leads(conn, utcnow(), thresholds, [day])
    return dg.AssetCheckResult(
        check_name=STUCK_LEADS_CHECK.name,
        passed=not stuck.fires,
        severity=dg.AssetCheckSeverity.WARN,
        description=stuck.summary(),
        metadata={
            "stuck": dg.MetadataValue.int(stuck.total),
            "not_registered_in_time": dg.MetadataValue.int(stuck.past_deadline),
            "awaiting_too_long": dg.MetadataValue.int(stuck.awaiting_too_long),
            "table": dg.MetadataValue.md(stuck.markdown()),
        },
    )
