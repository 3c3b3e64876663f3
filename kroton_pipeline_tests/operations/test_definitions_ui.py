"""What an operator meets in the UI: every asset grouped, described, owned, with kinds and
a link to its code; every job, schedule and sensor described (issue 5, "UI polish")."""

import dagster as dg
import pytest

ACTION_GROUPS = {
    "imports",
    "fix_data",
    "sync_courses",
    "register",
    "checker",
    "reporting",
    "operations",
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
        assert spec.group_name in ACTION_GROUPS, name
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
    assert {"health_check", "refresh_funnel_report"} <= {
        job.name for job in repository.get_all_jobs()
    }
