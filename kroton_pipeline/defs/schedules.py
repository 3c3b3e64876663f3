"""Schedules: the daily checker and the retry pass every three hours."""

from datetime import timedelta

import dagster as dg
from sqlalchemy import distinct, or_, select

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.defs.common.resources import DatabaseResource
from kroton_pipeline.defs.jobs import checker, retry_pass
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.timeutil import SAO_PAULO, TIMEZONE

daily_checker = dg.build_schedule_from_partitioned_job(
    checker,
    hour_of_day=7,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every morning (São Paulo): follow up the tracked leads due that day.",
)


@dg.schedule(
    job=retry_pass,
    cron_schedule="0 */3 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every 3 hours: one run per import date that still has leads to retry "
        "(course_failed, to_register, awaiting_register), like the source service's resend."
    ),
)
def retry_transient_failures(
    context: dg.ScheduleEvaluationContext, database: DatabaseResource
) -> list[dg.RunRequest] | dg.SkipReason:
    retryable = (
        Status.COURSE_FAILED.value,
        Status.TO_REGISTER.value,
        Status.AWAITING_REGISTER.value,
    )
    tick = context.scheduled_execution_time.astimezone(SAO_PAULO)
    oldest = (tick - timedelta(days=90)).date()
    with database.get_engine().connect() as conn:
        dates = (
            conn.execute(
                select(distinct(Subscription.import_date))
                .where(
                    Subscription.status.in_(retryable),
                    or_(Subscription.import_date >= oldest),
                )
                .order_by(Subscription.import_date)
            )
            .scalars()
            .all()
        )
    if not dates:
        return dg.SkipReason("no lead waits for a retry")
    stamp = tick.strftime("%Y-%m-%dT%H")
    return [
        dg.RunRequest(run_key=f"retry:{day}:{stamp}", partition_key=day.isoformat())
        for day in dates
    ]
