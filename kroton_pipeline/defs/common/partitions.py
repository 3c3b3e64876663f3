"""Daily partitions in São Paulo time: one per import date, one per follow-up snapshot date."""

from __future__ import annotations

from datetime import date

import dagster as dg

from kroton_pipeline.timeutil import TIMEZONE

FIRST_IMPORT_DATE = "2026-01-01"

# end_offset=1: today's partition exists, since today's export lands today.
import_date_partitions = dg.DailyPartitionsDefinition(
    start_date=FIRST_IMPORT_DATE, timezone=TIMEZONE, end_offset=1
)
snapshot_date_partitions = dg.DailyPartitionsDefinition(
    start_date=FIRST_IMPORT_DATE, timezone=TIMEZONE, end_offset=1
)


def partition_date(context: dg.AssetExecutionContext) -> date:
    """The partition's day as a date."""
    return date.fromisoformat(context.partition_key)
