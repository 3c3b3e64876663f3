"""syncCourses: the ``course_matches`` asset."""

from collections import Counter

import dagster as dg
from sqlalchemy import func, select

from kroton_pipeline.clients.resources import CatalogResource
from kroton_pipeline.db.models import CourseOption, Subscription
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
from kroton_pipeline.defs.common.resources import DatabaseResource
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.steps.match_courses import SearchOncePerRun, match_courses
from kroton_pipeline.timeutil import today_in_sao_paulo

TWO_OPTIONS_CHECK = dg.AssetCheckSpec(
    "to_register_leads_have_two_options",
    asset="course_matches",
    description="Every to_register lead of the partition has exactly two course options.",
)


@dg.asset(
    partitions_def=import_date_partitions,
    backfill_policy=import_backfill_policy,
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
    dates = partition_dates(context)
    client = catalog.get_client()
    searcher = SearchOncePerRun(client)  # a backfill's dates share their searches
    progress = ProgressReporter(context.log)
    results = [
        match_courses(
            engine,
            searcher,
            day,
            today_in_sao_paulo(),
            context.run.run_id,
            progress=lambda done, total, day=day: progress(f"searches {day}", done, total),
        )
        for day in dates
    ]
    errors: Counter[str] = Counter()
    for result in results:
        errors.update(result.errors_by_kind)
    leads = sum(r.leads for r in results)
    with engine.connect() as conn:
        missing = conn.execute(
            select(func.count())
            .select_from(Subscription)
            .where(
                Subscription.import_date.in_(dates),
                Subscription.status == Status.TO_REGISTER.value,
                select(func.count())
                .where(CourseOption.subscription_id == Subscription.id)
                .scalar_subquery()
                != 2,
            )
        ).scalar_one()
    return dg.MaterializeResult(
        metadata={
            "leads_searched": leads,
            "waiting_for_fix_data": sum(r.waiting_for_gender for r in results),
            "distinct_searches": len(searcher.answers),
            "to_register": sum(r.to_register for r in results),
            "empty_course": sum(r.empty_course for r in results),
            "course_failed": sum(r.course_failed for r in results),
            "errors": counts_table("error", dict(errors)),
            "duration_seconds": round(sum(r.seconds for r in results), 3),
            **api_metadata(client.counters.as_metadata(), leads, "catalog"),
            **status_metadata(status_counts(engine, dates)),
            "sample": masked_sample(engine, dates),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=TWO_OPTIONS_CHECK.name,
                passed=missing == 0,
                metadata={"to_register_without_two_options": int(missing)},
            )
        ],
    )
