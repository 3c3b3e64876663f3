"""checker-before-register + register: the ``registrations`` asset."""

from collections import Counter
from datetime import timedelta

import dagster as dg

from kroton_pipeline.clients.resources import KrotonResource
from kroton_pipeline.defs.common.metadata import (
    api_metadata,
    counts_table,
    masked_sample,
    status_counts,
    status_metadata,
)
from kroton_pipeline.defs.common.partitions import (
    import_backfill_policy,
    import_date_partitions,
    partition_dates,
)
from kroton_pipeline.defs.common.progress import ProgressReporter
from kroton_pipeline.defs.common.resources import DatabaseResource, RulesResource
from kroton_pipeline.defs.registrations.success_rate import success_rate_check
from kroton_pipeline.domain.budget_plan import BudgetPlan, days_to_clear_backlog
from kroton_pipeline.domain.masking import mask_payload
from kroton_pipeline.steps.budget_demand import waiting_to_be_sent
from kroton_pipeline.steps.register_leads import register_leads

SUCCESS_RATE_CHECK = dg.AssetCheckSpec(
    "registration_success_rate",
    asset="registrations",
    description=(
        "Share of the partition's sent leads that Kroton accepted (registered, awaiting, "
        "enrolled, dropped) — warns below the configured threshold (default 90%)."
    ),
)


class RegistrationConfig(dg.Config):
    """Run configuration of the registration step."""

    dry_run: bool = False
    """Send nothing: record and show every payload that would be posted; change no status."""

    poll_after_minutes: float = 10.0
    """Pending inscriptions are polled when Kroton last answered at least this long ago."""


@dg.asset(
    partitions_def=import_date_partitions,
    backfill_policy=import_backfill_policy,
    deps=["course_matches"],
    group_name="register",
    kinds={"python", "kroton", "sql"},
    owners=["team:integrations"],
    pool="kroton_api",
    check_specs=[SUCCESS_RATE_CHECK],
    description=(
        "Leads of the import date registered in Kroton's entrance exam. Each CPF is looked up "
        "first (an existing inscription is followed, never registered again); then the lead is "
        "marked, sent and recorded. Unknown outcomes are reconciled by CPF look-up; pending "
        "inscriptions are polled. Stops where it was killed and resumes on the next run."
    ),
)
def registrations(
    context: dg.AssetExecutionContext,
    config: RegistrationConfig,
    database: DatabaseResource,
    kroton: KrotonResource,
    rules: RulesResource,
) -> dg.MaterializeResult:
    engine = database.get_engine()
    dates = partition_dates(context)
    client = kroton.get_client()
    # Either switch sends nothing: the resource's (deployment-wide) or this run's config.
    client.dry_run = client.dry_run or config.dry_run
    dry_run = client.dry_run
    progress = ProgressReporter(context.log)
    results = [
        register_leads(
            engine,
            client,
            day,
            rules.rules,
            context.run.run_id,
            dry_run=dry_run,
            poll_after=timedelta(minutes=config.poll_after_minutes),
            progress=progress,
            claim_ttl_seconds=database.claim_ttl_seconds,
        )
        for day in dates
    ]
    outcomes: Counter[str] = Counter()
    for result in results:
        outcomes.update(result.outcomes)
    leads = sum(r.leads for r in results)
    payloads = [payload for r in results for payload in r.dry_run_payloads]
    metadata: dict[str, object] = {
        "dry_run": dry_run,
        "leads_to_register": leads,
        "found_at_kroton": sum(r.found_at_kroton for r in results),
        "posted": sum(r.posted for r in results),
        "unknown_outcomes": sum(r.unknown_outcomes for r in results),
        "reconciled": sum(r.reconciled for r in results),
        "transient_failures": sum(r.transient_failures for r in results),
        "held_by_another_run": sum(r.claimed_elsewhere for r in results),
        "pending_polled": sum(r.polled for r in results),
        "pending_resolved": sum(r.resolved_pending for r in results),
        "outcomes": counts_table("outcome", dict(outcomes)),
        "duration_seconds": round(sum(r.seconds for r in results), 3),
        **api_metadata(client.counters.as_metadata(), leads, "kroton"),
        **status_metadata(status_counts(engine, dates)),
        "sample": masked_sample(engine, dates),
    }
    if dry_run:
        metadata["dry_run_payloads"] = dg.MetadataValue.json(
            {"count": len(payloads), "first_20_masked": [mask_payload(p) for p in payloads[:20]]}
        )
    plan = BudgetPlan(kroton.rate_limit, kroton.rate_window_seconds, rules.follow_up_share)
    backlog = waiting_to_be_sent(engine)
    metadata.update(
        {
            **plan.as_metadata(),
            "budget/registration_spent_this_run": client.counters.total_requests,
            "forecast/backlog_to_send": backlog,
            "forecast/days_to_send_backlog": dg.MetadataValue.float(
                days_to_clear_backlog(backlog, plan)
            ),
        }
    )
    threshold = rules.rules.success_rate_threshold
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[success_rate_check(engine, dates, threshold)],
    )
