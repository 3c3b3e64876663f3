"""Slack run-status sensors over every job of the code location.

They use the Slack *resource* (webhook or token through ``EnvVar``, resolved when the
sensor runs) rather than dagster-slack's ``make_slack_on_run_failure_sensor``, which takes
the token as a plain string when the code loads. With Slack off (no token or channel)
every tick is skipped and nothing is sent or recorded.
"""

import dagster as dg

from kroton_pipeline.defs.common.resources import DatabaseResource
from kroton_pipeline.notifications.messages import run_started_message, run_url
from kroton_pipeline.notifications.reporter import RunReporter
from kroton_pipeline.notifications.run_facts import run_facts
from kroton_pipeline.notifications.slack import KrotonSlackResource
from kroton_pipeline.settings import alert_thresholds

SLACK_OFF = "Slack is off: set SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN and SLACK_CHANNEL"


def _reporter(slack: KrotonSlackResource, database: DatabaseResource) -> RunReporter:
    return RunReporter(database.get_engine(), alert_thresholds(), slack.webserver_url)


def _send_all(context: dg.RunStatusSensorContext, slack: KrotonSlackResource, messages) -> None:
    sent = sum(1 for message in messages if slack.post(message))
    context.log.info(f"run {context.dagster_run.run_id[:8]}: {sent}/{len(messages)} sent to Slack")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.STARTED,
    name="slack_on_run_start",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Slack: a line when any job of the pipeline starts, with the run link.",
)
def slack_on_run_start(
    context: dg.RunStatusSensorContext, slack: KrotonSlackResource
) -> dg.SkipReason | None:
    if not slack.enabled:
        return dg.SkipReason(SLACK_OFF)
    run = context.dagster_run
    partition = run.tags.get("dagster/partition")
    message = run_started_message(
        run.job_name, run.run_id, partition, run_url(slack.webserver_url, run.run_id)
    )
    _send_all(context, slack, [message])
    return None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="slack_on_run_success",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Slack: at the end of each job, its leads per status and the run link; then the "
        "alerts the run started or cleared (rate-limit waits, excessive retries, anomalous "
        "import volume)."
    ),
)
def slack_on_run_success(
    context: dg.RunStatusSensorContext, slack: KrotonSlackResource, database: DatabaseResource
) -> dg.SkipReason | None:
    if not slack.enabled:
        return dg.SkipReason(SLACK_OFF)
    reporter = _reporter(slack, database)
    facts = run_facts(context.instance, context.dagster_run)
    _send_all(context, slack, [reporter.summary(facts, "SUCCESS"), *reporter.alerts(facts)])
    return None


@dg.run_failure_sensor(
    name="slack_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Slack: a failed job with its error class (no personal data) and the run link; then "
        "the alerts the run started or cleared."
    ),
)
def slack_on_run_failure(
    context: dg.RunFailureSensorContext, slack: KrotonSlackResource, database: DatabaseResource
) -> dg.SkipReason | None:
    if not slack.enabled:
        return dg.SkipReason(SLACK_OFF)
    reporter = _reporter(slack, database)
    facts = run_facts(context.instance, context.dagster_run)
    step_errors = [
        (event.step_key, event.step_failure_data.error)
        for event in context.get_step_failure_events()
    ]
    if not step_errors and context.failure_event.event_specific_data is not None:
        step_errors = [(None, getattr(context.failure_event.event_specific_data, "error", None))]
    _send_all(context, slack, [reporter.failure(facts, step_errors), *reporter.alerts(facts)])
    return None
