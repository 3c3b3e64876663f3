"""syncCourses: the ``course_matches`` asset."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from sqlalchemy import func, select

from kroton_pipeline.db.models import CourseOption, Subscription
from kroton_pipeline.defs.common.metadata import (
    DateRecord,
    ProgressReporter,
    api_counters,
    api_metadata,
    counts_table,
    materialize_per_date,
    numbers,
    status_metadata,
)
from kroton_pipeline.defs.common.partitions import (
    import_backfill_policy,
    import_date_partitions,
    partition_dates,
)
from kroton_pipeline.defs.common.resources import CatalogResource, DatabaseResource
from kroton_pipeline.defs.common.stages import LEAD_INTAKE
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.reporting.status_counts import status_counts
from kroton_pipeline.settings import today_in_sao_paulo
from kroton_pipeline.steps.match_courses import SearchOncePerRun, match_courses

TWO_OPTIONS_CHECK = dg.AssetCheckSpec(
    "to_register_leads_have_two_options",
    asset="course_matches",
    description="Every to_register lead of the partition has exactly two course options.",
)


@dg.asset(
    partitions_def=import_date_partitions,
    backfill_policy=import_backfill_policy,
    deps=["subscription_genders"],
    group_name=LEAD_INTAKE,
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
) -> Iterator[Any]:
    engine = database.get_engine()
    client = catalog.get_client()
    searcher = SearchOncePerRun(client)  # a backfill's dates share their searches
    progress = ProgressReporter(context.log)
    records: dict[str, DateRecord] = {}
    for day in partition_dates(context):
        before = api_counters(client.counters.as_metadata())
        searches_before = len(searcher.answers)
        result = match_courses(
            engine,
            searcher,
            day,
            today_in_sao_paulo(),
            context.run.run_id,
            progress=lambda done, total, day=day: progress(f"searches {day}", done, total),
        )
        after = api_counters(client.counters.as_metadata())
        figures = {
            "leads_searched": result.leads,
            "distinct_searches": len(searcher.answers) - searches_before,
            "to_register": result.to_register,
            "empty_course": result.empty_course,
            "course_failed": result.course_failed,
            "waiting_for_fix_data": result.waiting_for_gender,
        }
        missing = _without_two_options(engine, day)
        records[day.isoformat()] = DateRecord(
            metadata={
                **numbers({k: v for k, v in figures.items() if v or k == "leads_searched"}),
                "errors": counts_table("error", dict(result.errors_by_kind)),
                "duration_seconds": dg.MetadataValue.float(round(result.seconds, 3)),
                **api_metadata("catalog", before, after, result.leads),
                **status_metadata(status_counts(engine, [day])),
            },
            checks=[
                dg.AssetCheckResult(
                    check_name=TWO_OPTIONS_CHECK.name,
                    passed=missing == 0,
                    metadata={"to_register_without_two_options": missing},
                )
            ],
        )
    yield from materialize_per_date(context, records)


def _without_two_options(engine: Any, day: Any) -> int:
    """to_register leads of ``day`` that do not have exactly two course options."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(Subscription)
                .where(
                    Subscription.import_date == day,
                    Subscription.status == Status.TO_REGISTER.value,
                    select(func.count())
                    .where(CourseOption.subscription_id == Subscription.id)
                    .scalar_subquery()
                    != 2,
                )
            ).scalar_one()
        )
