"""The registration success rate of an import date, as an asset check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg
from sqlalchemy import Engine

from kroton_pipeline.reporting.success_rate import registration_success


def success_rate_check(
    engine: Engine, dates: Sequence[date], threshold: float
) -> dg.AssetCheckResult:
    """Share of the dates' sent leads that Kroton accepted; warns below ``threshold``."""
    with engine.connect() as conn:
        figures = registration_success(conn, dates)
    rate = figures.rate if figures.rate is not None else 1.0
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
