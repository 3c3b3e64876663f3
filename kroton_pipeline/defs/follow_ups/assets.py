"""checker: the daily ``follow_up_snapshots`` asset."""

import dagster as dg

from kroton_pipeline.clients.resources import KrotonResource
from kroton_pipeline.defs.common.metadata import (
    api_metadata,
    counts_table,
    status_counts,
    status_metadata,
)
from kroton_pipeline.defs.common.partitions import partition_date, snapshot_date_partitions
from kroton_pipeline.defs.common.progress import ProgressReporter
from kroton_pipeline.defs.common.resources import DatabaseResource, RulesResource
from kroton_pipeline.domain.budget_plan import BudgetPlan
from kroton_pipeline.steps.budget_demand import registration_demand
from kroton_pipeline.steps.check_follow_ups import check_follow_ups


class FollowUpConfig(dg.Config):
    """Run configuration of the daily checker."""

    ignore_schedule: bool = False
    """Check every tracked lead now, not only those due today (e.g. after an incident)."""

    max_lookups: int | None = None
    """Look-ups this run may spend; default: the follow-up share of the daily budget."""


@dg.asset(
    partitions_def=snapshot_date_partitions,
    deps=[dg.AssetDep("registrations", partition_mapping=dg.AllPartitionMapping())],
    group_name="checker",
    kinds={"python", "kroton", "sql"},
    owners=["team:integrations"],
    pool="kroton_api",
    description=(
        "One snapshot per tracked lead (awaiting_register, registered) and snapshot date: "
        "Kroton's classification, the internal status it maps to and Kroton's full answer. "
        "Statuses follow the classification table (Aluno/Convocado → enrolled, "
        "Ausente/Desclassificado → dropped); unknown classifications keep the status and warn."
    ),
)
def follow_up_snapshots(
    context: dg.AssetExecutionContext,
    config: FollowUpConfig,
    database: DatabaseResource,
    kroton: KrotonResource,
    rules: RulesResource,
) -> dg.MaterializeResult:
    engine = database.get_engine()
    snapshot_date = partition_date(context)
    client = kroton.get_client()
    plan = BudgetPlan(kroton.rate_limit, kroton.rate_window_seconds, rules.follow_up_share)
    demand = registration_demand(engine, snapshot_date)
    allowance = plan.follow_up_allowance(demand)
    # One look-up per lead; keep one request of the allowance for a token.
    cap = config.max_lookups if config.max_lookups is not None else allowance - 1
    result = check_follow_ups(
        engine,
        client,
        snapshot_date,
        context.run.run_id,
        limit=max(cap, 0),
        ignore_schedule=config.ignore_schedule,
        progress=ProgressReporter(context.log),
        claim_ttl_seconds=database.claim_ttl_seconds,
    )
    if result.unknown_classifications:
        context.log.warning(
            f"{result.unknown_classifications} inscription(s) with a classification the "
            "status table does not know: status kept"
        )
    return dg.MaterializeResult(
        metadata={
            "due_checked_today": result.due,
            "budget/registration_demand_today": round(demand),
            "budget/follow_up_allowance": allowance,
            "budget/follow_up_planned": cap,
            "budget/follow_up_spent": client.counters.total_requests,
            **plan.as_metadata(),
            "checked": result.checked,
            "deferred_over_cap": result.deferred,
            "failures": result.failures,
            "held_by_another_run": result.claimed_elsewhere,
            "unknown_classifications": result.unknown_classifications,
            "no_longer_tracked": result.untracked,
            "status_changes": counts_table("new status", result.changed),
            "classifications": counts_table("classification", result.classifications),
            "duration_seconds": round(result.seconds, 3),
            **api_metadata(client.counters.as_metadata(), result.checked, "kroton"),
            **status_metadata(status_counts(engine)),
        }
    )
