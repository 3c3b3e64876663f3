"""Daily partitions in São Paulo time: one per import date, one per follow-up snapshot date.

They start at ``KROTON_FIRST_IMPORT_DATE`` (settings), the day the pipeline went live.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from kroton_pipeline.settings import TIMEZONE, first_import_date

FIRST_IMPORT_DATE = first_import_date()

# end_offset=1: today's partition exists, since today's export lands today.
import_date_partitions = dg.DailyPartitionsDefinition(
    start_date=FIRST_IMPORT_DATE, timezone=TIMEZONE, end_offset=1
)
snapshot_date_partitions = dg.DailyPartitionsDefinition(
    start_date=FIRST_IMPORT_DATE, timezone=TIMEZONE, end_offset=1
)


# A backfill of a range of dates runs as one run; each asset loops over the days and
# records every day on its own partition (defs/common/metadata.py).
import_backfill_policy = dg.BackfillPolicy.single_run()
snapshot_backfill_policy = dg.BackfillPolicy.single_run()


def partition_date(context: dg.AssetExecutionContext) -> date:
    """The partition's day as a date (single-partition runs)."""
    return date.fromisoformat(context.partition_key)


def partition_dates(context: dg.AssetExecutionContext) -> list[date]:
    """Every day the run covers: one for a normal run, several for a ranged backfill."""
    return [date.fromisoformat(key) for key in context.partition_keys]
