"""The Slack run-status sensors post real payloads to (a stand-in for) Slack's Web API.

Runs are real (``execute_in_process`` on the project's jobs); the sensors are invoked with
the run's own success or failure event, as the daemon would, with the resources of the
loaded code location, so the token really comes from ``EnvVar("SLACK_BOT_TOKEN")``.
"""

import json
import re
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from kroton_pipeline.notifications.slack import KrotonSlackResource
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.settings import today_in_sao_paulo
from kroton_pipeline_tests.operations.conftest import CHANNEL, TOKEN, FakeSlack

UI = "https://dagster.example.org"
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
DAY = today_in_sao_paulo() - timedelta(days=1)


@pytest.fixture
def location(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str, fake_slack: FakeSlack
) -> dg.Definitions:
    """The code location with Slack on, pointed at the fake Slack server."""
    from kroton_pipeline.definitions import defs

    for name, value in {
        "KROTON_ENV": "sandbox",
        "KROTON_DATABASE_URL": sqlite_url,
        "KROTON_LANDING_URL": str(tmp_path / "landing"),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_CHANNEL": CHANNEL,
        "SLACK_API_URL": fake_slack.url,
        "DAGSTER_WEBSERVER_URL": UI,
    }.items():
        monkeypatch.setenv(name, value)
    return defs()


def _notify(
    location: dg.Definitions,
    instance: dg.DagsterInstance,
    result: dg.ExecuteInProcessResult,
    sensor_name: str,
    resources: dict | None = None,
):
    run = instance.get_run_by_id(result.run_id)
    failed = not result.success
    event = result.get_run_failure_event() if failed else result.get_run_success_event()
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor_name,
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=run,
        resources=resources
        or {"slack": location.resources["slack"], "database": location.resources["database"]},
    )
    sensor = location.resolve_sensor_def(sensor_name)
    return sensor(context.for_run_failure() if failed else context)


def _personal_values(frame) -> list[str]:
    values = []
    for row in frame.itertuples():
        digits = re.sub(r"\D", "", str(row.cpf))
        values += [digits, f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"]
        values += [str(row.email), f"{row.area_code}{row.phone_number}", str(row.phone_number)]
    return [value for value in values if value and value != "nan"]


def test_end_of_a_job_posts_counts_per_status_and_the_run_link_without_personal_data(
    location: dg.Definitions, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    frame = generate_export(DAY, 30, seed=3)
    write_export(frame, tmp_path / "landing", DAY)
    instance = dg.DagsterInstance.ephemeral()
    result = location.resolve_job_def("import_leads").execute_in_process(
        instance=instance, partition_key=DAY.isoformat(), run_config=QUIET
    )
    assert result.success

    _notify(location, instance, result, "slack_on_run_success")

    [post] = fake_slack.posts
    assert post.authorization == f"Bearer {TOKEN}"  # the variable's value, not its name
    assert post.body["channel"] == CHANNEL
    assert re.search(rf"import_leads \({DAY.isoformat()}\) success in \d+ s", post.body["text"])
    assert re.search(r"to_sync \d+", post.body["text"])
    payload = json.dumps(post.body, ensure_ascii=False)
    assert f"{UI}/runs/{result.run_id}" in payload
    leaked = [value for value in _personal_values(frame) if value in payload]
    assert leaked == []


def test_a_failed_job_posts_its_error_class_and_the_run_link(
    location: dg.Definitions, fake_slack: FakeSlack
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = location.resolve_job_def("import_leads").execute_in_process(
        instance=instance, partition_key=DAY.isoformat(), run_config=QUIET, raise_on_error=False
    )
    assert not result.success  # no export landed for that day

    _notify(location, instance, result, "slack_on_run_failure")

    [post] = fake_slack.posts
    assert (
        "import_leads" in post.body["text"]
        and "failed: Failure in `subscriptions`" in (post.body["text"])
    )
    payload = json.dumps(post.body, ensure_ascii=False)
    assert "> No export for" in payload  # the message, without Dagster's class prefix
    assert f"{UI}/runs/{result.run_id}" in payload


class Calls(dg.Config):
    waited_seconds: float


@dg.asset
def api_calls(config: Calls) -> dg.MaterializeResult:
    """Stands for an asset that called Kroton: publishes the client counters."""
    return dg.MaterializeResult(
        metadata={
            "kroton/budget_wait_seconds": config.waited_seconds,
            "kroton/requests": 10,
        }
    )


def test_rate_limit_waits_alert_once_when_they_start_and_once_when_they_clear(
    location: dg.Definitions, fake_slack: FakeSlack
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    job = dg.Definitions(assets=[api_calls], jobs=[dg.define_asset_job("calls")]).resolve_job_def(
        "calls"
    )
    texts_per_run = []
    for waited in (120.0, 130.0, 0.0, 0.0):
        config = {**QUIET, "ops": {"api_calls": {"config": {"waited_seconds": waited}}}}
        result = job.execute_in_process(instance=instance, run_config=config)
        before = len(fake_slack.posts)
        _notify(location, instance, result, "slack_on_run_success")
        texts_per_run.append([post.body["text"] for post in fake_slack.posts[before:]])

    assert [len(texts) for texts in texts_per_run] == [2, 1, 2, 1]
    assert "Alert started: rate-limit waits on the Kroton API" in texts_per_run[0][1]
    assert "120 s waited" in texts_per_run[0][1]
    assert "Alert cleared: rate-limit waits on the Kroton API" in texts_per_run[2][1]


def test_a_run_start_is_announced(location: dg.Definitions, fake_slack: FakeSlack) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [api_calls],
        instance=instance,
        run_config={"ops": {"api_calls": {"config": {"waited_seconds": 0}}}},
    )
    run = instance.get_run_by_id(result.run_id)
    context = dg.build_run_status_sensor_context(
        sensor_name="slack_on_run_start",
        dagster_event=result.get_run_success_event(),
        dagster_instance=instance,
        dagster_run=run,
        resources={"slack": location.resources["slack"]},
    )
    location.resolve_sensor_def("slack_on_run_start")(context)
    [post] = fake_slack.posts
    assert "started" in post.body["text"] and result.run_id[:8] in post.body["text"]


def test_slack_is_off_without_a_token(
    monkeypatch: pytest.MonkeyPatch, location: dg.Definitions, fake_slack: FakeSlack
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    from kroton_pipeline.definitions import defs

    quiet_location = defs()
    assert not quiet_location.resources["slack"].enabled
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [api_calls],
        instance=instance,
        run_config={"ops": {"api_calls": {"config": {"waited_seconds": 500}}}},
    )
    outcome = _notify(
        quiet_location,
        instance,
        result,
        "slack_on_run_success",
        {
            "slack": quiet_location.resources["slack"],
            "database": quiet_location.resources["database"],
        },
    )
    assert isinstance(outcome, dg.SkipReason) and "Slack is off" in (outcome.skip_message or "")
    assert fake_slack.calls == []


def test_a_slack_outage_does_not_fail_the_sensor(fake_slack: FakeSlack) -> None:
    from kroton_pipeline.notifications.messages import run_started_message

    fake_slack.fail_with = "channel_not_found"
    slack = KrotonSlackResource(token=TOKEN, channel=CHANNEL, base_url=fake_slack.url)
    assert slack.post(run_started_message("checker", "r" * 16, None, None)) is False
    assert len(fake_slack.posts) == 1


def test_the_import_date_of_a_run_is_read_from_its_partition_tags() -> None:
    from kroton_pipeline.notifications.run_facts import _dates

    run = dg.DagsterRun(
        job_name="all_jobs",
        tags={
            "dagster/asset_partition_range_start": "2026-11-01",
            "dagster/asset_partition_range_end": "2026-11-03",
        },
    )
    label, days = _dates(run)
    assert label == "2026-11-01…2026-11-03"
    assert days == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]


def test_slack_can_be_an_incoming_webhook_as_in_the_design_document(fake_slack: FakeSlack) -> None:
    from kroton_pipeline.notifications.messages import run_started_message

    slack = KrotonSlackResource(webhook_url=fake_slack.url + "services/T000/B000/XXXX")
    assert slack.enabled
    assert slack.post(run_started_message("checker", "r" * 16, None, None)) is True
    [call] = fake_slack.calls
    assert call.method == "XXXX" and call.authorization is None
    assert "checker" in call.body["text"] and "channel" not in call.body
