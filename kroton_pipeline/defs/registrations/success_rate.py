"""The registration success rate of an import date, as an asset check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg
from sqlalchemy import Engine

from kroton_pipeline.reporting.success_rate import registration_success


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
