"""The landing sensor's cursor: each date once, a change reported once, files read only when
they change."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import dagster as dg

from kroton_pipeline.defs.common.resources import LandingResource
from kroton_pipeline.defs.imports.sensors import landing_sensor
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.timeutil import today_in_sao_paulo


def _tick(landing: Path, cursor: str | None) -> dg.SensorResult:
    with dg.build_sensor_context(
        cursor=cursor, resources={"landing": LandingResource(url=str(landing))}
    ) as context:
        return landing_sensor(context)


def test_csv_and_parquet_of_one_date_start_one_run_and_no_warning(tmp_path: Path) -> None:
    day = today_in_sao_paulo() - timedelta(days=1)
    frame = generate_export(day, 10, seed=3)
    write_export(frame, tmp_path, day, fmt="csv")
    write_export(frame, tmp_path, day, fmt="parquet")
    first = _tick(tmp_path, None)
    assert [request.tags["kroton/export_file"] for request in first.run_requests] == [
        f"leads_{day}.csv"
    ]
    second = _tick(tmp_path, first.cursor)
    assert second.run_requests == []
    assert "changed" not in str(second.skip_reason)


def test_a_changed_file_is_reported_once_and_never_re_imported(tmp_path: Path) -> None:
    day = today_in_sao_paulo() - timedelta(days=2)
    write_export(generate_export(day, 10, seed=4), tmp_path, day)
    cursor = _tick(tmp_path, None).cursor
    write_export(generate_export(day, 12, seed=5), tmp_path, day)
    changed = _tick(tmp_path, cursor)
    assert changed.run_requests == []
    assert "changed after it was imported" in str(changed.skip_reason)
    again = _tick(tmp_path, changed.cursor)
    assert again.run_requests == [] and "changed" not in str(again.skip_reason)
    # The digest of the file that was imported is kept: the change stays visible in the cursor.
    stored = json.loads(again.cursor)[day.isoformat()]
    assert stored["sha256"] == json.loads(cursor)[day.isoformat()]["sha256"]
