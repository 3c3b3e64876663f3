"""The retry pass every three hours, for each import date with leads left behind."""

from datetime import timedelta

import dagster as dg
from sqlalchemy import select

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.defs.common.resources import DatabaseResource
from kroton_pipeline.defs.registrations.jobs import retry_pass
from kroton_pipeline.domain.statuses import RETRYABLE, Status
from kroton_pipeline.settings import SAO_PAULO, TIMEZONE


@dg.schedule(
    job=retry_pass,
    cron_schedule="0 */3 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every 3 hours: one run per import date that still has leads to retry "
        "(to_sync, course_failed, to_register, awaiting_register) and no run in flight, "
        "like the source service's resend."
    ),
)
def retry_transient_failures(
    context: dg.ScheduleEvaluationContext, database: DatabaseResource
) -> list[dg.RunRequest] | dg.SkipReason:
    retryable = [status.value for status in (*RETRYABLE, Status.AWAITING_REGISTER)]
    tick = context.scheduled_execution_time.astimezone(SAO_PAULO)
    oldest = (tick - timedelta(days=90)).date()
    with database.get_engine().connect() as conn:
        dates = (
            conn.execute(
                select(Subscription.import_date)
                .distinct()
                .where(Subscription.status.in_(retryable), Subscription.import_date >= oldest)
                .order_by(Subscription.import_date)
            )
            .scalars()
            .all()
        )
    busy = _partitions_in_flight(context.instance)
    waiting = [day for day in dates if day.isoformat() not in busy]
    if not waiting:
        return dg.SkipReason(
            "no lead waits for a retry" if not dates else "every such date already has a run"
        )
    stamp = tick.strftime("%Y-%m-%dT%H")
    return [
        dg.RunRequest(run_key=f"retry:{day}:{stamp}", partition_key=day.isoformat())
        for day in waiting
    ]


IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _partitions_in_flight(instance: dg.DagsterInstance) -> set[str]:
    """Import dates that a queued or running run already covers: asking again would only
    pile runs up behind the Kroton pool."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=IN_FLIGHT, job_name=None),
        limit=500,
    )
    return {
        run.tags["dagster/partition"]
        for run in runs
        if "dagster/partition" in run.tags and run.job_name in RETRY_COVERING_JOBS
    }


RETRY_COVERING_JOBS = {"retry_pass", "all_jobs", "register", "sync_courses"}
