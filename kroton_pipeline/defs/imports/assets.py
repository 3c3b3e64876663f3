"""The ``subscriptions`` asset: one import date's Databricks export in the database."""

from collections import Counter
from datetime import date

import dagster as dg
from sqlalchemy import Engine, func, select

from kroton_pipeline.db.models import LeadRejection, Subscription
from kroton_pipeline.defs.common.metadata import (
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
from kroton_pipeline.defs.common.resources import DatabaseResource, LandingResource, RulesResource
from kroton_pipeline.domain.cpf import is_valid_cpf
from kroton_pipeline.domain.leads import MissingColumnsError
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.landing import ExportUnreadable, find_export
from kroton_pipeline.steps.erasure import is_erased
from kroton_pipeline.steps.import_leads import ImportResult, import_export

CHECKS = [
    dg.AssetCheckSpec(
        "rows_in_equal_imported_plus_rejected",
        asset="subscriptions",
        description="Every exported row became a subscription or a rejection.",
    ),
    dg.AssetCheckSpec(
        "valid_cpfs_only",
        asset="subscriptions",
        description="Every subscription of the partition has a CPF with valid check digits.",
    ),
    dg.AssetCheckSpec(
        "no_duplicate_cpf",
        asset="subscriptions",
        description="No CPF appears on two subscriptions (whole table); the unique "
        "constraint already guarantees it, the check shows it on every import.",
    ),
    dg.AssetCheckSpec(
        "no_unknown_status",
        asset="subscriptions",
        description="No subscription is in a status the state machine does not know.",
    ),
]


@dg.asset(
    partitions_def=import_date_partitions,
    backfill_policy=import_backfill_policy,
    group_name="imports",
    kinds={"python", "pandas", "sql"},
    owners=["team:integrations"],
    check_specs=CHECKS,
    description=(
        "Leads of one import date: the day's Databricks export read from the landing "
        "location, normalised and validated, upserted by CPF (status to_sync). Rows that "
        "cannot become a subscription are kept in lead_rejections with a reason code. A day "
        "without an export fails with a clear message instead of importing nothing."
    ),
)
def subscriptions(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    landing: LandingResource,
    rules: RulesResource,
) -> dg.MaterializeResult:
    engine = database.get_engine()
    exports = {day: find_export(landing.url, day) for day in partition_dates(context)}
    missing = [day.isoformat() for day, export in exports.items() if export is None]
    if missing:
        # Checked before anything is written: a backfill never half-imports its range.
        raise dg.Failure(
            description=f"No export for {', '.join(missing)} in the landing location "
            "(expected leads_YYYY-MM-DD.csv or .parquet); nothing was imported.",
            metadata={"missing_dates": ", ".join(missing)},
        )
    results: list[ImportResult] = []
    for export in exports.values():
        assert export is not None
        try:
            results.append(import_export(engine, export, rules.rules, context.run.run_id))
        except (MissingColumnsError, ExportUnreadable) as exc:
            raise dg.Failure(
                description=f"{export.name}: {exc}. Nothing of this file was imported."
            ) from exc

    dates = [result.import_date for result in results]
    invalid_cpfs, duplicates, unknown_status = _integrity(engine, dates)
    rows_in = sum(result.rows_in for result in results)
    imported = sum(result.imported for result in results)
    rejected = sum(result.rejected for result in results)
    by_reason: Counter[str] = Counter()
    for result in results:
        by_reason.update(result.rejections_by_reason)
    metadata: dict[str, object] = {
        "files": ", ".join(result.file_name for result in results),
        "rows_in": rows_in,
        "imported": imported,
        "created": sum(result.created for result in results),
        "updated": sum(result.updated for result in results),
        "rejected": rejected,
        "address_defaulted": sum(result.address_defaulted for result in results),
        "rejections_by_reason": counts_table("reason", dict(by_reason)),
        "duration_seconds": round(sum(result.seconds for result in results), 3),
        **status_metadata(status_counts(engine, dates)),
        "sample": masked_sample(engine, dates),
    }
    if len(results) == 1:
        metadata["sha256"] = results[0].sha256
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            rows_balance_check(engine, results),
            dg.AssetCheckResult(
                check_name="valid_cpfs_only",
                passed=invalid_cpfs == 0,
                metadata={"invalid": invalid_cpfs},
            ),
            dg.AssetCheckResult(
                check_name="no_duplicate_cpf",
                passed=duplicates == 0,
                metadata={"duplicated_cpfs": duplicates},
            ),
            dg.AssetCheckResult(
                check_name="no_unknown_status",
                passed=unknown_status == 0,
                metadata={"unknown": unknown_status},
            ),
        ],
    )


def rows_balance_check(engine: Engine, results: list[ImportResult]) -> dg.AssetCheckResult:
    """Rows in each file = its date's subscriptions + rejections, counted in the database."""
    unbalanced: list[str] = []
    stored_total = 0
    with engine.connect() as conn:
        for result in results:
            day = result.import_date
            stored = (
                conn.execute(
                    select(func.count()).where(Subscription.import_date == day)
                ).scalar_one()
                + conn.execute(
                    select(func.count()).where(LeadRejection.import_date == day)
                ).scalar_one()
            )
            stored_total += int(stored)
            if stored != result.rows_in or not result.balanced:
                unbalanced.append(f"{day}: {result.rows_in} rows in, {stored} stored")
    return dg.AssetCheckResult(
        check_name="rows_in_equal_imported_plus_rejected",
        passed=not unbalanced,
        metadata={
            "rows_in": sum(result.rows_in for result in results),
            "subscriptions_plus_rejections_stored": stored_total,
            "unbalanced": "; ".join(unbalanced) or "none",
        },
    )


def _integrity(engine: Engine, dates: list[date]) -> tuple[int, int, int]:
    """(invalid CPFs in these dates, duplicated CPFs overall, leads in unknown statuses)."""
    with engine.connect() as conn:
        cpfs = conn.execute(
            select(Subscription.cpf).where(Subscription.import_date.in_(dates))
        ).scalars()
        # Erased people keep a placeholder CPF (LGPD erasure): not an invalid import.
        invalid_cpfs = sum(1 for cpf in cpfs if not is_valid_cpf(cpf) and not is_erased(cpf))
        duplicates = conn.execute(
            select(func.count()).select_from(
                select(Subscription.cpf)
                .group_by(Subscription.cpf)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        unknown_status = conn.execute(
            select(func.count()).where(Subscription.status.not_in([s.value for s in Status]))
        ).scalar_one()
    return invalid_cpfs, int(duplicates), int(unknown_status)
