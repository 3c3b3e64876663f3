"""``checker``: the daily follow-up, and its schedule every morning."""

from __future__ import annotations

import dagster as dg

checker = dg.define_asset_job(
    "checker",
    selection=["follow_up_snapshots"],
    description="checker: the daily follow-up of every tracked lead.",
)
daily_checker = dg.build_schedule_from_partitioned_job(
    checker,
    hour_of_day=7,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every morning (São Paulo): follow up the tracked leads due that day.",
)
