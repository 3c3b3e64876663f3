"""checker: the daily ``follow_up_snapshots`` asset."""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from kroton_pipeline.defs.common.metadata import (
    DateRecord,
    ProgressReporter,
    api_counters,
    api_metadata,
    counts_table,
    latest_history_id,
    materialize_per_date,
    numbers,
    outcomes_metadata,
    run_outcomes,
    status_metadata,
)
from kroton_pipeline.defs.common.partitions import (
    partition_dates,
    snapshot_backfill_policy,
    snapshot_date_partitions,
)
from kroton_pipeline.defs.common.resources import DatabaseResource, KrotonResource, RulesResource
from kroton_pipeline.defs.common.stages import FOLLOW_UP
from kroton_pipeline.domain.budget_plan import BudgetPlan
from kroton_pipeline.domain.kroton_api import tracking_rules
from kroton_pipeline.reporting.status_counts import status_counts
from kroton_pipeline.steps.budget_demand import registration_demand
from kroton_pipeline.steps.check_follow_ups import check_follow_ups


class FollowUpConfig(dg.Config):
    """Run configuration of the daily checker."""

    ignore_schedule: bool = False
    """Check every tracked lead now, not only those due today (e.g. after an incident)."""

    max_lookups: int | None = None
    """Look-ups this run may spend per snapshot date; default: the follow-up share of the
    daily budget (plus what registrations leave)."""


@dg.asset(
    partitions_def=snapshot_date_partitions,
    # Catching up several days (after an outage, say) is one run, one date after the other.
    backfill_policy=snapshot_backfill_policy,
    deps=[dg.AssetDep("registrations", partition_mapping=dg.AllPartitionMapping())],
    group_name=FOLLOW_UP,
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
) -> Iterator[Any]:
    engine = database.get_engine()
    client = kroton.get_client()
    plan = BudgetPlan(kroton.rate_limit, kroton.rate_window_seconds, rules.follow_up_share)
    progress = ProgressReporter(context.log)
    records: dict[str, DateRecord] = {}
    for snapshot_date in partition_dates(context):
        demand = registration_demand(engine, snapshot_date)
        allowance = plan.follow_up_allowance(demand)
        # One look-up per lead; keep one request of the allowance for a token.
        cap = config.max_lookups if config.max_lookups is not None else allowance - 1
        before = api_counters(client.counters.as_metadata())
        history_before = latest_history_id(engine)
        result = check_follow_ups(
            engine,
            client,
            snapshot_date,
            context.run.run_id,
            limit=max(cap, 0),
            ignore_schedule=config.ignore_schedule,
            progress=progress.for_date(snapshot_date),
            claim_ttl_seconds=database.claim_ttl_seconds,
            tracking=tracking_rules(rules.rules),
        )
        after = api_counters(client.counters.as_metadata())
        if result.unknown_classifications:
            context.log.warning(
                f"{snapshot_date}: {result.unknown_classifications} inscription(s) with a "
                "classification the status table does not know: status kept"
            )
        figures = {
            "due_checked_today": result.due,
            "checked": result.checked,
            "deferred_over_cap": result.deferred,
            "failures": result.failures,
            "held_by_another_run": result.claimed_elsewhere,
            "unknown_classifications": result.unknown_classifications,
            "tracking_ended": result.tracking_ended,
        }
        records[snapshot_date.isoformat()] = DateRecord(
            metadata={
                **numbers({k: v for k, v in figures.items() if v or k == "checked"}),
                **outcomes_metadata(
                    run_outcomes(engine, context.run.run_id, after_id=history_before)
                ),
                "classifications": counts_table("classification", result.classifications),
                **numbers(
                    {
                        **plan.as_metadata(),
                        "budget/registration_demand_today": round(demand),
                        "budget/follow_up_allowance": allowance,
                        "budget/follow_up_planned": cap,
                    }
                ),
                **api_metadata("kroton", before, after, result.checked),
                **status_metadata(status_counts(engine)),
                "duration_seconds": dg.MetadataValue.float(round(result.seconds, 3)),
            }
        )
    yield from materialize_per_date(context, records)
