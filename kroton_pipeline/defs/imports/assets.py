"""The ``subscriptions`` asset: one import date's Databricks export in the database."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import dagster as dg
from sqlalchemy import Engine, func, select

from kroton_pipeline.db.models import LeadRejection, Subscription
from kroton_pipeline.defs.common.metadata import (
    DateRecord,
    counts_table,
    materialize_per_date,
    numbers,
    status_counts,
    status_metadata,
)
from kroton_pipeline.defs.common.partitions import (
    import_backfill_policy,
    import_date_partitions,
    partition_dates,
)
from kroton_pipeline.defs.common.resources import DatabaseResource, LandingResource, RulesResource
from kroton_pipeline.defs.common.stages import LEAD_INTAKE
from kroton_pipeline.domain.leads import MissingColumnsError, is_valid_cpf
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.landing import ExportFile, ExportUnreadable, find_export
from kroton_pipeline.steps.erasure import is_erased
from kroton_pipeline.steps.import_leads import ImportResult, StagedBatch, find_batch, import_export

CHECKS = [
    dg.AssetCheckSpec(
        "rows_in_equal_imported_plus_rejected",
        asset="subscriptions",
        description="Every exported row became a subscription or a rejection.",
    ),
    dg.AssetCheckSpec(
        "some_rows_imported",
        asset="subscriptions",
        description="A file with rows imported at least one of them: a file whose every row "
        "was rejected (shifted columns, a wrong export) fails, and alerts.",
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
    group_name=LEAD_INTAKE,
    kinds={"python", "pandas", "sql"},
    owners=["team:integrations"],
    check_specs=CHECKS,
    description=(
        "Leads of one import date: the day's Databricks export read from the landing "
        "location (or, without one, the day's complete batch staged in incoming_leads), "
        "normalised and validated, upserted by CPF (status to_sync). Rows that "
        "cannot become a subscription are kept in lead_rejections with a reason code. A day "
        "without an export fails with a clear message instead of importing nothing; in a "
        "backfill, the other days are imported and materialized."
    ),
)
def subscriptions(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    landing: LandingResource,
    rules: RulesResource,
) -> Iterator[Any]:
    engine = database.get_engine()
    exports = {day: _source(landing.url, engine, day) for day in partition_dates(context)}
    missing = [day.isoformat() for day, export in exports.items() if export is None]
    records: dict[str, DateRecord] = {}
    failure: dg.Failure | None = None
    for day, export in exports.items():
        if export is None:
            continue
        try:
            result = import_export(engine, export, rules.rules, context.run.run_id)
        except (MissingColumnsError, ExportUnreadable) as exc:
            failure = dg.Failure(
                description=f"{export.name}: {exc}. Nothing of this export was imported."
            )
            break
        if result.redelivered:
            context.log.warning(_redelivery(result))
        records[day.isoformat()] = _date_record(engine, result)
    if missing and failure is None:
        # A date without its export fails alone: the others are imported and materialized.
        failure = dg.Failure(
            description=f"No export for {', '.join(missing)} in the landing location "
            "(expected leads_YYYY-MM-DD.csv or .parquet, a Spark directory with _SUCCESS, or "
            "a complete incoming_batches row); nothing was imported for "
            f"{'it' if len(missing) == 1 else 'them'}.",
            metadata={"missing_dates": ", ".join(missing)},
        )
    yield from materialize_per_date(context, records, failure)


def _source(landing_url: str, engine: Engine, day: date) -> ExportFile | StagedBatch | None:
    """The date's landing export if there is one, else its complete staged batch."""
    return find_export(landing_url, day) or find_batch(engine, day)


def _redelivery(result: ImportResult) -> str:
    """What a re-delivered export changed, compared with the date's previous import."""
    return (
        f"{result.file_name} changed since its previous import "
        f"({result.previous_rows_in} rows then, {result.rows_in} now): "
        f"{result.created} leads added, {result.updated} updated (still to_sync), "
        f"{result.unchanged} untouched (already past to_sync), {result.rejected} rejected"
    )


def _date_record(engine: Engine, result: ImportResult) -> DateRecord:
    """One import date's figures and check results."""
    invalid_cpfs, duplicates, unknown_status = _integrity(engine, [result.import_date])
    figures = {
        "rows_in": result.rows_in,
        "imported": result.imported,
        "created": result.created,
        "returned": result.returned,
        "updated": result.updated,
        "untouched": result.unchanged,
        "rejected": result.rejected,
        "address_defaulted": result.address_defaulted,
    }
    return DateRecord(
        metadata={
            "file": result.file_name,
            "sha256": result.sha256,
            **numbers(figures),
            "rejections_by_reason": counts_table("reason", dict(result.rejections_by_reason)),
            "duration_seconds": dg.MetadataValue.float(round(result.seconds, 3)),
            **(
                {
                    "redelivery": dg.MetadataValue.text(_redelivery(result)),
                    "previous_sha256": result.previous_sha256 or "",
                    "previous_rows_in": result.previous_rows_in or 0,
                }
                if result.redelivered
                else {}
            ),
            **status_metadata(status_counts(engine, [result.import_date])),
        },
        checks=[
            rows_balance_check(engine, [result]),
            some_rows_imported_check(result),
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


def some_rows_imported_check(result: ImportResult) -> dg.AssetCheckResult:
    """Fails when the file had rows and every one of them was rejected."""
    reasons = sorted(result.rejections_by_reason.items(), key=lambda item: -item[1])
    return dg.AssetCheckResult(
        check_name="some_rows_imported",
        passed=result.rows_in == 0 or result.imported > 0,
        metadata={
            "rows_in": result.rows_in,
            "imported": result.imported,
            "rejected": result.rejected,
            "main_rejection_reason": reasons[0][0] if reasons else "none",
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
