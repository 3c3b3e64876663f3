"""checker-before-register + register: the ``registrations`` asset."""

from __future__ import annotations

import dagster as dg

from kroton_pipeline.clients.kroton import KrotonResource
from kroton_pipeline.defs.common.metadata import (
    api_metadata,
    counts_table,
    masked_sample,
    status_counts,
    status_metadata,
)
from kroton_pipeline.defs.common.partitions import import_date_partitions, partition_date
from kroton_pipeline.defs.common.progress import ProgressReporter
from kroton_pipeline.defs.common.resources import DatabaseResource, RulesResource
from kroton_pipeline.defs.registrations.success_rate import success_rate_check
from kroton_pipeline.domain.masking import mask_payload
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


@dg.asset(
    partitions_def=import_date_partitions,
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
    import_date = partition_date(context)
    client = kroton.get_client(dry_run=config.dry_run)
    result = register_leads(
        engine,
        client,
        import_date,
        rules.rules,
        context.run_id,
        dry_run=config.dry_run,
        progress=ProgressReporter(context.log),
    )
    counters = client.counters.as_metadata()
    metadata = {
        "dry_run": config.dry_run,
        "leads_to_register": result.leads,
        "found_at_kroton": result.found_at_kroton,
        "posted": result.posted,
        "unknown_outcomes": result.unknown_outcomes,
        "reconciled": result.reconciled,
        "transient_failures": result.transient_failures,
        "pending_polled": result.polled,
        "pending_resolved": result.resolved_pending,
        "outcomes": counts_table("outcome", result.outcomes),
        "duration_seconds": round(result.seconds, 3),
        **api_metadata(counters, result.leads, "kroton"),
        **status_metadata(status_counts(engine, import_date)),
        "sample": masked_sample(engine, import_date),
    }
    if config.dry_run:
        shown = [mask_payload(payload) for payload in result.dry_run_payloads[:20]]
        metadata["dry_run_payloads"] = dg.MetadataValue.json({"count": len(result.dry_run_payloads),
                                                               "first_20_masked": shown})  # fmt: skip
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[success_rate_check(engine, import_date, rules.rules.success_rate_threshold)],
    )
