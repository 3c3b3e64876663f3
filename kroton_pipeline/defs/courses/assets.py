"""syncCourses: the ``course_matches`` asset."""

from __future__ import annotations

import dagster as dg
from sqlalchemy import func, select

from kroton_pipeline.clients.catalog import CatalogResource
from kroton_pipeline.db.models import CourseOption, Subscription
from kroton_pipeline.defs.common.metadata import (
    api_metadata,
    counts_table,
    masked_sample,
    status_counts,
    status_metadata,
)
from kroton_pipeline.defs.common.partitions import import_date_partitions, partition_date
from kroton_pipeline.defs.common.progress import ProgressReporter
from kroton_pipeline.defs.common.resources import DatabaseResource
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.steps.match_courses import match_courses
from kroton_pipeline.timeutil import today_in_sao_paulo

TWO_OPTIONS_CHECK = dg.AssetCheckSpec(
    "to_register_leads_have_two_options",
    asset="course_matches",
    description="Every to_register lead of the partition has exactly two course options.",
)


@dg.asset(
    partitions_def=import_date_partitions,
    deps=["subscription_genders"],
    group_name="sync_courses",
    kinds={"python", "elasticsearch", "sql"},
    owners=["team:integrations"],
    pool="catalog_api",
    check_specs=[TWO_OPTIONS_CHECK],
    description=(
        "Two matching offers per lead from Kroton's catalog (Elasticsearch middleware), with "
        "the query that found them. Leads sharing a desired course share one search. "
        "2+ offers → to_register; fewer → empty_course; catalog error → course_failed "
        "(retried by the next run)."
    ),
)
def course_matches(
    context: dg.AssetExecutionContext, database: DatabaseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    engine = database.get_engine()
    import_date = partition_date(context)
    client = catalog.get_client()
    result = match_courses(
        engine,
        client,
        import_date,
        today_in_sao_paulo(),
        context.run_id,
        progress=lambda done, total: ProgressReporter(context.log)("searches", done, total),
    )
    with engine.connect() as conn:
        missing = conn.execute(
            select(func.count()).select_from(Subscription).where(
                Subscription.import_date == import_date,
                Subscription.status == Status.TO_REGISTER.value,
                select(func.count()).where(CourseOption.subscription_id == Subscription.id)
                .scalar_subquery() != 2,
            )
        ).scalar_one()  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "leads_searched": result.leads,
            "distinct_searches": result.searches,
            "to_register": result.to_register,
            "empty_course": result.empty_course,
            "course_failed": result.course_failed,
            "errors": counts_table("error", result.errors_by_kind),
            "duration_seconds": round(result.seconds, 3),
            **api_metadata(client.counters.as_metadata(), result.leads, "catalog"),
            **status_metadata(status_counts(engine, import_date)),
            "sample": masked_sample(engine, import_date),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=TWO_OPTIONS_CHECK.name,
                passed=missing == 0,
                metadata={"to_register_without_two_options": int(missing)},
            )
        ],
    )
