"""The landing sensor's cursor: each date once a file is stable, a re-delivery requested
again, files read only when they change, earlier cursors still understood."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import dagster as dg

from kroton_pipeline.defs.common.resources import DatabaseResource, LandingResource
from kroton_pipeline.defs.imports.sensors import landing_sensor
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.settings import today_in_sao_paulo


def _tick(landing: Path, cursor: str | None, database_url: str) -> dg.SensorResult:
    resources = {
        "landing": LandingResource(url=str(landing)),
        "database": DatabaseResource(url=database_url),
    }
    with (
        dg.DagsterInstance.ephemeral() as instance,
        dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context,
    ):
        return landing_sensor(context)


def test_csv_and_parquet_of_one_date_start_one_run_and_no_warning(
    tmp_path: Path, sqlite_url: str
) -> None:
    day = today_in_sao_paulo() - timedelta(days=1)
    landing = tmp_path / "landing"
    frame = generate_export(day, 10, seed=3)
    write_export(frame, landing, day, fmt="csv")
    write_export(frame, landing, day, fmt="parquet")
    seen = _tick(landing, None, sqlite_url)
    assert seen.run_requests == []
    first = _tick(landing, seen.cursor, sqlite_url)
    assert [request.tags["kroton/export_file"] for request in first.run_requests] == [
        f"leads_{day}.csv"
    ]
    second = _tick(landing, first.cursor, sqlite_url)
    assert second.run_requests == []
    assert "changed" not in str(second.skip_reason)


def test_a_cursor_of_the_earlier_format_does_not_import_a_date_again(
    tmp_path: Path, sqlite_url: str
) -> None:
    day = today_in_sao_paulo() - timedelta(days=2)
    landing = tmp_path / "landing"
    write_export(generate_export(day, 10, seed=4), landing, day)
    current = json.loads(_tick(landing, _tick(landing, None, sqlite_url).cursor, sqlite_url).cursor)
    earlier = json.dumps({day.isoformat(): current[day.isoformat()]["sha256"]})
    for _ in range(3):
        result = _tick(landing, earlier, sqlite_url)
        assert result.run_requests == []
        earlier = result.cursor
