"""The ``subscriptions`` asset: one import date's Databricks export in the database."""

from __future__ import annotations

import dagster as dg
from sqlalchemy import func, select

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.defs.common.metadata import (
    counts_table,
    masked_sample,
    status_counts,
    status_metadata,
)
from kroton_pipeline.defs.common.partitions import import_date_partitions, partition_date
from kroton_pipeline.defs.common.resources import DatabaseResource, LandingResource, RulesResource
from kroton_pipeline.domain.cpf import is_valid_cpf
from kroton_pipeline.domain.leads import MissingColumnsError
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.landing import ExportUnreadable, find_export
from kroton_pipeline.steps.import_leads import import_export

CHECKS = [
    dg.AssetCheckSpec("rows_in_equal_imported_plus_rejected", asset="subscriptions",
                      description="Every exported row became a subscription or a rejection."),
    dg.AssetCheckSpec("valid_cpfs_only", asset="subscriptions",
                      description="Every subscription of the partition has a CPF with valid check digits."),
    dg.AssetCheckSpec("no_duplicate_cpf", asset="subscriptions",
                      description="No CPF appears on two subscriptions (whole table)."),
    dg.AssetCheckSpec("no_unknown_status", asset="subscriptions",
                      description="No subscription is in a status the state machine does not know."),
]  # fmt: skip


@dg.asset(
    partitions_def=import_date_partitions,
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
    import_date = partition_date(context)
    export = find_export(landing.url, import_date)
    if export is None:
        raise dg.Failure(
            description=f"No export for {import_date} in the landing location "
            f"(expected leads_{import_date}.csv or .parquet); nothing was imported.",
            metadata={"import_date": str(import_date), "landing": landing.url},
        )
    engine = database.get_engine()
    try:
        result = import_export(engine, export, rules.rules, context.run_id)
    except (MissingColumnsError, ExportUnreadable) as exc:
        raise dg.Failure(description=f"{export.name}: {exc}. Nothing was imported.") from exc

    with engine.connect() as conn:
        cpfs = conn.execute(
            select(Subscription.cpf).where(Subscription.import_date == import_date)
        ).scalars()  # fmt: skip
        invalid_cpfs = sum(1 for cpf in cpfs if not is_valid_cpf(cpf))
        duplicates = conn.execute(
            select(func.count()).select_from(
                select(Subscription.cpf).group_by(Subscription.cpf)
                .having(func.count() > 1).subquery()
            )
        ).scalar_one()  # fmt: skip
        unknown_status = conn.execute(
            select(func.count()).where(Subscription.status.not_in([s.value for s in Status]))
        ).scalar_one()

    counts = status_counts(engine, import_date)
    return dg.MaterializeResult(
        metadata={
            "file": export.name,
            "sha256": result.sha256,
            "rows_in": result.rows_in,
            "imported": result.imported,
            "created": result.created,
            "updated": result.updated,
            "rejected": result.rejected,
            "address_defaulted": result.address_defaulted,
            "rejections_by_reason": counts_table("reason", result.rejections_by_reason),
            "duration_seconds": round(result.seconds, 3),
            "sample": masked_sample(engine, import_date),
            **status_metadata(counts),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="rows_in_equal_imported_plus_rejected",
                passed=result.balanced,
                metadata={"rows_in": result.rows_in, "imported": result.imported,
                          "rejected": result.rejected},  # fmt: skip
            ),
            dg.AssetCheckResult(
                check_name="valid_cpfs_only", passed=invalid_cpfs == 0,
                metadata={"invalid": invalid_cpfs},
            ),
            dg.AssetCheckResult(
                check_name="no_duplicate_cpf", passed=duplicates == 0,
                metadata={"duplicated_cpfs": int(duplicates)},
            ),
            dg.AssetCheckResult(
                check_name="no_unknown_status", passed=unknown_status == 0,
                metadata={"unknown": int(unknown_status)},
            ),
        ],
    )
