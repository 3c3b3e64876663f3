"""Whole-graph snapshot (dagster-open-platform's test_defs.py): the definitions load with
placeholder settings, and an accidental change to keys, groups, partitions, dependencies,
pools, checks, jobs, schedules or sensors of the pipeline shows up in review.

Only the pipeline proper (import to follow-up) is pinned here; reporting/operations pin
their own parts.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from kroton_pipeline.settings import TIMEZONE

PIPELINE_ASSETS = {
    # key: (group, partitioned by, parents, pool, checks)
    "subscriptions": (
        "lead_intake",
        "import_date",
        [],
        None,
        [
            "no_duplicate_cpf",
            "no_unknown_status",
            "rows_in_equal_imported_plus_rejected",
            "some_rows_imported",
            "valid_cpfs_only",
        ],
    ),
    "ibge_names": ("lead_intake", None, [], None, []),
    "subscription_genders": (
        "lead_intake",
        "import_date",
        ["ibge_names", "subscriptions"],
        None,
        [],
    ),
    "course_matches": (
        "lead_intake",
        "import_date",
        ["subscription_genders"],
        "catalog_api",
        ["to_register_leads_have_two_options"],
    ),
    "registrations": (
        "kroton_registration",
        "import_date",
        ["course_matches"],
        "kroton_api",
        ["no_stuck_leads", "registration_success_rate"],
    ),
    "follow_up_snapshots": (
        "kroton_follow_up",
        "snapshot_date",
        ["registrations"],
        "kroton_api",
        [],
    ),
}
PIPELINE_JOBS = {
    "import_leads": ["subscriptions"],
    "fix_data": ["subscription_genders"],
    "sync_courses": ["course_matches"],
    "register": ["registrations"],
    "checker": ["follow_up_snapshots"],
    "all_jobs": [
        "course_matches",
        "follow_up_snapshots",
        "registrations",
        "subscription_genders",
        "subscriptions",
    ],
    "retry_pass": ["course_matches", "registrations", "subscription_genders"],
}
PIPELINE_SCHEDULES = {
    "checker_schedule": ("checker", "0 7 * * *"),
    "retry_transient_failures": ("retry_pass", "0 */3 * * *"),
}


@pytest.fixture
def defs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dg.Definitions:
    for name, value in {
        "KROTON_ENV": "sandbox",
        "KROTON_DATABASE_URL": f"sqlite:///{tmp_path / 'placeholder.db'}",
        "KROTON_LANDING_URL": str(tmp_path / "landing"),
    }.items():
        monkeypatch.setenv(name, value)
    from kroton_pipeline.definitions import defs as load

    return load()


def _partitions(asset: dg.AssetsDefinition) -> str | None:
    from kroton_pipeline.defs.common.partitions import (
        import_date_partitions,
        snapshot_date_partitions,
    )

    partitions_def = asset.partitions_def
    if partitions_def is None:
        return None
    assert isinstance(partitions_def, dg.DailyPartitionsDefinition)
    assert partitions_def.timezone == TIMEZONE
    assert partitions_def.start.date().isoformat() == "2026-01-01"
    if partitions_def is import_date_partitions:
        return "import_date"
    assert partitions_def is snapshot_date_partitions
    return "snapshot_date"


def test_pipeline_assets_snapshot(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    found = {}
    for key in PIPELINE_ASSETS:
        asset = defs.resolve_assets_def(key)
        node = graph.get(dg.AssetKey(key))
        found[key] = (
            node.group_name,
            _partitions(asset),
            sorted(parent.to_user_string() for parent in node.parent_keys),
            asset.op.pool,
            sorted(check.name for check in node.check_keys),
        )
    assert found == PIPELINE_ASSETS
    # Backfills of import dates run as one run per range.
    for key in ("subscriptions", "subscription_genders", "course_matches", "registrations"):
        policy = defs.resolve_assets_def(key).backfill_policy
        assert policy is not None and policy.max_partitions_per_run is None


def test_pipeline_jobs_schedules_and_sensor_snapshot(defs: dg.Definitions) -> None:
    for name, selection in PIPELINE_JOBS.items():
        job = defs.resolve_job_def(name)
        assert sorted(key.to_user_string() for key in job.asset_layer.selected_asset_keys) == (
            selection
        ), name
        assert job.partitions_def is not None
    for name, (job_name, cron) in PIPELINE_SCHEDULES.items():
        schedule = defs.resolve_schedule_def(name)
        assert (schedule.job_name, schedule.cron_schedule) == (job_name, cron)
        assert schedule.execution_timezone == TIMEZONE
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    sensor = defs.resolve_sensor_def("landing_sensor")
    assert sensor.job_name == "all_jobs"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
