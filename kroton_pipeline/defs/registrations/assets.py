"""checker-before-register + register: the ``registrations`` asset."""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg

from kroton_pipeline.defs.common.metadata import (
    DateRecord,
    ProgressReporter,
    api_counters,
    api_metadata,
    counts_table,
    materialize_per_date,
    numbers,
    observe_per_date,
    outcomes_metadata,
    problems_metadata,
    run_outcomes,
    status_metadata,
)
from kroton_pipeline.defs.common.partitions import (
    import_backfill_policy,
    import_date_partitions,
    partition_dates,
)
from kroton_pipeline.defs.common.resources import DatabaseResource, KrotonResource, RulesResource
from kroton_pipeline.defs.common.stages import REGISTRATION
from kroton_pipeline.defs.registrations.checks import (
    STUCK_LEADS_CHECK,
    stuck_leads_check,
    success_rate_check,
)
from kroton_pipeline.domain.budget_plan import BudgetPlan, days_to_clear_backlog
from kroton_pipeline.domain.leads import mask_payload
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.reporting.status_counts import status_counts
from kroton_pipeline.settings import load_settings
from kroton_pipeline.steps.budget_demand import waiting_to_be_sent
from kroton_pipeline.steps.register_leads import RegistrationResult, register_leads

SUCCESS_RATE_CHECK = dg.AssetCheckSpec(
    "registration_success_rate",
    asset="registrations",
    description=(
        "Share of the partition's sent leads that Kroton accepted (registered, awaiting, "
        "enrolled, dropped) — warns below the configured threshold (default 90%). Not "
        "evaluated for a date none of whose leads reached Kroton, nor by a dry run."
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
    group_name=REGISTRATION,
    kinds={"python", "kroton", "sql"},
    owners=["team:integrations"],
    pool="kroton_api",
    check_specs=[SUCCESS_RATE_CHECK, STUCK_LEADS_CHECK],
    # A dry run observes instead of materializing (it changes nothing).
    output_required=False,
    description=(
        "Leads of the import date registered in Kroton's entrance exam. Each CPF is looked up "
        "first (an existing inscription is followed, never registered again); then the lead is "
        "marked, sent and recorded. Unknown outcomes are reconciled by CPF look-up; pending "
        "inscriptions are polled. Stops where it was killed and resumes on the next run. "
        "Each import date shows its own figures and a `problems` table (status, reason, id, "
        "masked CPF); a dry run records an observation, never a materialization."
    ),
)
def registrations(
    context: dg.AssetExecutionContext,
    config: RegistrationConfig,
    database: DatabaseResource,
    kroton: KrotonResource,
    rules: RulesResource,
) -> Iterator[Any]:
    engine = database.get_engine()
    client = kroton.get_client()
    # One decision, passed to the step: the resource's switch (deployment-wide; its client
    # also refuses to post on its own) or this run's config. The client is never altered.
    dry_run = kroton.dry_run or config.dry_run
    progress = ProgressReporter(context.log)
    plan = BudgetPlan(kroton.rate_limit, kroton.rate_window_seconds, rules.follow_up_share)
    threshold = rules.rules.success_rate_threshold
    records: dict[str, DateRecord] = {}
    observed: dict[str, dict[str, Any]] = {}
    for day in partition_dates(context):
        before = api_counters(client.counters.as_metadata())
        result = register_leads(
            engine,
            client,
            day,
            rules.rules,
            context.run.run_id,
            dry_run=dry_run,
            poll_after=timedelta(minutes=config.poll_after_minutes),
            progress=progress.for_date(day),
            claim_ttl_seconds=database.claim_ttl_seconds,
        )
        after = api_counters(client.counters.as_metadata())
        if dry_run:
            observed[day.isoformat()] = {
                **_dry_run_metadata(result),
                **api_metadata("kroton", before, after, 0),
            }
            continue
        check = success_rate_check(engine, [day], threshold)
        stuck = stuck_leads_check(engine, day, load_settings().stuck)
        records[day.isoformat()] = DateRecord(
            metadata={
                **_date_metadata(engine, context.run.run_id, day, result),
                **api_metadata("kroton", before, after, result.leads),
                **_budget_metadata(engine, plan),
            },
            checks=[*([check] if check else []), stuck],
        )
    if dry_run:
        yield from observe_per_date(context, observed)
    else:
        yield from materialize_per_date(context, records)


def _date_metadata(
    engine: Any, run_id: str, day: date, result: RegistrationResult
) -> dict[str, Any]:
    """One import date's figures: what the pass did, what changed, what went wrong."""
    done = {
        "leads_to_register": result.leads,
        "found_at_kroton": result.found_at_kroton,
        "posted": result.posted,
    }
    # Figures of rarer events only when they happened.
    rarer = {
        "unknown_outcomes": result.unknown_outcomes,
        "reconciled": result.reconciled,
        "transient_failures": result.transient_failures,
        "held_by_another_run": result.claimed_elsewhere,
        "claims_lost": result.claims_lost,
        "pending_polled": result.polled,
        "pending_resolved": result.resolved_pending,
    }
    return {
        **numbers(done),
        **numbers({key: value for key, value in rarer.items() if value}),
        **outcomes_metadata(run_outcomes(engine, run_id, day)),
        **problems_metadata(engine, day),
        **status_metadata(status_counts(engine, [day])),
        "duration_seconds": dg.MetadataValue.float(round(result.seconds, 3)),
    }


def _dry_run_metadata(result: RegistrationResult) -> dict[str, Any]:
    """What a real run would have done for the date: every label says "would"."""
    payloads = result.dry_run_payloads
    return {
        "dry_run": dg.MetadataValue.md(
            "**Dry run**: nothing was sent to Kroton and no status changed. The figures "
            "below say what a real run would do (the CPF pre-checks were made)."
        ),
        "would_check": dg.MetadataValue.int(result.leads),
        "would_follow_existing_inscription": dg.MetadataValue.int(result.found_at_kroton),
        "would_post": dg.MetadataValue.int(len(payloads)),
        "would_fail": dg.MetadataValue.int(result.outcomes.get(Status.REGISTER_FAILED.value, 0)),
        "would_become": counts_table("would become", result.outcomes, "_no change_"),
        "would_post_payloads": dg.MetadataValue.json(
            {"count": len(payloads), "first_20_masked": [mask_payload(p) for p in payloads[:20]]}
        ),
    }


def _budget_metadata(engine: Any, plan: BudgetPlan) -> dict[str, Any]:
    """The day's Kroton plan (the same keys as ``follow_up_snapshots``) and the backlog."""
    backlog = waiting_to_be_sent(engine)
    return {
        **numbers(plan.as_metadata()),
        "forecast/backlog_to_send": dg.MetadataValue.int(backlog),
        "forecast/days_to_send_backlog": dg.MetadataValue.float(
            days_to_clear_backlog(backlog, plan)
        ),
    }
