"""What an operator meets in the UI: every asset grouped, described, owned, with kinds and
a link to its code; every job, schedule and sensor described."""

import dagster as dg
import pytest

from kroton_pipeline.defs.common.stages import STAGES

# Groups read as the pipeline's stages, in order; no group is named after a job.
EXPECTED_STAGE_OF = {
    "subscriptions": "lead_intake",
    "ibge_names": "lead_intake",
    "subscription_genders": "lead_intake",
    "course_matches": "lead_intake",
    "registrations": "kroton_registration",
    "follow_up_snapshots": "kroton_follow_up",
    "funnel_report": "reporting_and_health",
    "deployment_health": "reporting_and_health",
}


@pytest.fixture(scope="module")
def location() -> dg.Definitions:
    from kroton_pipeline.definitions import defs

    return defs()


def test_every_asset_is_grouped_described_owned_with_kinds_and_code_references(
    location: dg.Definitions,
) -> None:
    specs = location.resolve_all_asset_specs()
    assert {"funnel_report", "deployment_health"} <= {spec.key.to_user_string() for spec in specs}
    for spec in specs:
        name = spec.key.to_user_string()
        assert spec.group_name in STAGES, name
        assert spec.group_name == EXPECTED_STAGE_OF.get(name, spec.group_name), name
        assert spec.description and len(spec.description) > 40, name
        assert spec.owners, name
        assert spec.kinds, name
        references = spec.metadata.get("dagster/code_references")
        assert isinstance(references, dg.CodeReferencesMetadataValue), name
        assert references.code_references[0].file_path.endswith(".py"), name


def test_every_job_schedule_and_sensor_is_described(location: dg.Definitions) -> None:
    repository = location.get_repository_def()
    for job in repository.get_all_jobs():
        if not job.name.startswith("__"):
            assert job.description, job.name
    for schedule in repository.schedule_defs:
        assert schedule.description, schedule.name
    for sensor in repository.sensor_defs:
        assert sensor.description, sensor.name
    names = {sensor.name for sensor in repository.sensor_defs}
    assert {"slack_on_run_start", "slack_on_run_success", "slack_on_run_failure"} <= names
    jobs = {job.name for job in repository.get_all_jobs()}
    assert {"health_check", "refresh_funnel_report"} <= jobs
    assert not {spec.group_name for spec in location.resolve_all_asset_specs()} & jobs


def test_checker_backfills_run_as_one_run(location: dg.Definitions) -> None:
    graph = location.resolve_asset_graph()
    for name in ("subscriptions", "registrations", "follow_up_snapshots"):
        policy = graph.get(dg.AssetKey(name)).backfill_policy
        assert policy is not None and policy.max_partitions_per_run is None, name


def test_replay_reasons_are_listed_in_the_description_and_the_config_schema(
    location: dg.Definitions,
) -> None:
    from kroton_pipeline.defs.replays.jobs import REPLAYABLE_REASONS, ReplayConfig

    job = location.resolve_job_def("replay_register_failed")
    field = ReplayConfig.model_fields["reason_prefix"]
    for reason in REPLAYABLE_REASONS:
        assert f"`{reason}`" in (job.description or "")
        assert f"`{reason}`" in (field.description or "")
