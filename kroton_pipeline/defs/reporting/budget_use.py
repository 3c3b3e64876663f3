"""Kroton budget planned vs spent over the last day, read from the runs' own metadata."""

import time

import dagster as dg

from kroton_pipeline.domain.budget_plan import BudgetPlan
from kroton_pipeline.reporting.markdown_table import markdown_table

REQUESTS_KEY = "kroton/requests"
# Which part of the plan each asset's Kroton requests belong to.
WORK_KINDS = {"registrations": "registrations and pre-checks", "follow_up_snapshots": "follow-ups"}


def spent_last_day(instance: dg.DagsterInstance, now: float | None = None) -> dict[str, int]:
    """Kroton requests per kind of work over the last 24 hours (materializations' metadata)."""
    since = (now or time.time()) - 86_400
    spent: dict[str, int] = {}
    for asset, kind in WORK_KINDS.items():
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), after_timestamp=since), limit=1000
        ).records
        total = 0
        for record in records:
            materialization = record.asset_materialization
            value = materialization.metadata.get(REQUESTS_KEY) if materialization else None
            if value is not None and isinstance(value.value, int):
                total += value.value
        spent[kind] = total
    return spent


def budget_markdown(plan: BudgetPlan, spent: dict[str, int]) -> str:
    """Planned vs spent per kind of work, with the share of the day's budget."""
    planned = {
        "registrations and pre-checks": plan.registration_share,
        "follow-ups": plan.follow_up_cap,
    }
    rows = [
        (kind, planned[kind], spent.get(kind, 0), f"{spent.get(kind, 0) / planned[kind]:.1%}")
        for kind in planned
    ]
    table = markdown_table(["work", "planned / day", "spent (24 h)", "used"], rows)
    return (
        f"Kroton budget: {plan.requests_per_window} requests per {plan.window_seconds:g} s = "
        f"{plan.daily_requests} a day; new leads it can send a day: "
        f"{plan.new_leads_per_day()}.\n\n{table}"
    )
