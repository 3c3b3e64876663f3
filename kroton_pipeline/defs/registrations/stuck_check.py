"""Stuck leads of an import date, as an asset check of ``registrations``.

Leads still before ``registered`` more than ``KROTON_STUCK_AFTER_HOURS`` after import, or
``awaiting_register`` longer than ``KROTON_STUCK_AWAITING_HOURS``: the design document's
"aluno não inscrito após 48h", found before anyone asks (``reporting.stuck_leads``).
"""

from __future__ import annotations

from datetime import date

import dagster as dg
from sqlalchemy import Engine

from kroton_pipeline.reporting.stuck_leads import find_stuck_leads
from kroton_pipeline.settings import StuckThresholds
from kroton_pipeline.timeutil import utcnow

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
