"""What the landing sensor requests and what the import reads, for exports as they really
arrive: written in steps, empty at first, Spark directories, re-delivered, misnamed, failing,
or staged in the database by the Databricks job (docs/exports.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from sqlalchemy import func, insert, select, update

from kroton_pipeline.db.incoming_models import IncomingBatch, IncomingLead
from kroton_pipeline.db.models import ImportFile, LeadRejection, Subscription
from kroton_pipeline.sandbox.export_generator import COLUMNS, generate_export, write_export
from kroton_pipeline_tests.pipeline.conftest import Pipeline, past_days


def _import(pipeline: Pipeline, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    """The import a sensor request starts, with the request's tags (as the daemon would)."""
    day = date.fromisoformat(str(request.partition_key))
    return pipeline.run("import_leads", day, tags=dict(request.tags), raise_on_error=False)


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [event] = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def _stored(pipeline: Pipeline, day: date) -> tuple[int, int]:
    """(subscriptions, rejections) stored for ``day``."""
    with pipeline.engine.connect() as conn:
        subs = conn.execute(select(func.count()).where(Subscription.import_date == day))
        rejections = conn.execute(select(func.count()).where(LeadRejection.import_date == day))
        return int(subs.scalar_one()), int(rejections.scalar_one())


def _csv(frame: pd.DataFrame) -> bytes:
    return frame[list(COLUMNS)].to_csv(index=False).encode("utf-8")


def test_a_file_written_in_steps_is_requested_once_stable_and_imports_whole(
    db_pipeline: Pipeline,
) -> None:
    pipeline, [day] = db_pipeline, past_days(1)
    frame = generate_export(day, 40, seed=21)
    path = pipeline.landing / f"leads_{day.isoformat()}.csv"
    content = _csv(frame)
    path.write_bytes(content[: len(content) // 3])
    cursor = None
    for end in (2 * len(content) // 3, len(content)):
        tick = pipeline.evaluate_sensor(cursor)
        assert tick.run_requests == [], "requested while the file was still being written"
        with path.open("ab") as handle:
            handle.write(content[len(path.read_bytes()) : end])
        cursor = tick.cursor
    assert pipeline.evaluate_sensor(cursor).run_requests == []  # changed since the last tick
    [request] = pipeline.settled_sensor(cursor).run_requests
    result = _import(pipeline, request)
    assert result.success
    assert _metadata(result)["rows_in"] == 40
    assert sum(_stored(pipeline, day)) == 40


def test_a_zero_byte_file_is_never_complete_and_imports_once_it_is_filled(
    db_pipeline: Pipeline,
) -> None:
    pipeline, [day] = db_pipeline, past_days(1)
    path = pipeline.landing / f"leads_{day.isoformat()}.csv"
    path.touch()
    Path(f"{path}.done").touch()  # even with a marker
    cursor = None
    for _ in range(3):
        tick = pipeline.evaluate_sensor(cursor)
        assert tick.run_requests == [] and "empty" in str(tick.skip_reason)
        cursor = tick.cursor
    path.write_bytes(_csv(generate_export(day, 30, seed=22)))
    [request] = pipeline.evaluate_sensor(cursor).run_requests  # the marker: no second tick
    result = _import(pipeline, request)
    assert result.success and sum(_stored(pipeline, day)) == 30


@pytest.mark.parametrize(("fmt", "folder"), [("csv", "{day}"), ("parquet", "{day}.parquet")])
def test_a_spark_directory_is_one_export_once_it_has_success(
    db_pipeline: Pipeline, fmt: str, folder: str
) -> None:
    pipeline, [day] = db_pipeline, past_days(1)
    frame = generate_export(day, 50, seed=23)
    directory = pipeline.landing / f"leads_{folder.format(day=day.isoformat())}"
    directory.mkdir()
    pieces = [frame.iloc[:20], frame.iloc[20:20], frame.iloc[20:]]
    for number, piece in enumerate(pieces):
        part = (
            directory / f"part-{number:05d}-4f1c-c000.{'csv' if fmt == 'csv' else 'snappy.parquet'}"
        )
        if fmt == "csv":
            part.write_bytes(_csv(piece) if len(piece) else b"")  # Spark's empty partition
        else:
            piece[list(COLUMNS)].to_parquet(part, index=False)
        (directory / f".{part.name}.crc").write_bytes(b"crc")
    (directory / "_started_123").touch()

    first = pipeline.evaluate_sensor()
    second = pipeline.evaluate_sensor(first.cursor)
    assert first.run_requests == second.run_requests == []
    assert f"{directory.name} skipped: a directory without the _SUCCESS marker" in str(
        first.skip_reason
    )
    assert "skipped" not in str(second.skip_reason), "reported on every tick"

    (directory / "_SUCCESS").touch()
    [request] = pipeline.evaluate_sensor(second.cursor).run_requests
    assert request.tags["kroton/export_file"] == directory.name
    result = _import(pipeline, request)
    assert result.success
    figures = _metadata(result)
    assert figures["rows_in"] == 50 == figures["imported"] + figures["rejected"]
    with pipeline.engine.connect() as conn:
        numbers = set(
            conn.execute(select(Subscription.row_number).where(Subscription.import_date == day))
            .scalars()
            .all()
        ) | set(
            conn.execute(select(LeadRejection.row_number).where(LeadRejection.import_date == day))
            .scalars()
            .all()
        )
        stored_sha = conn.execute(select(ImportFile.sha256)).scalar_one()
    assert numbers == set(range(1, 51)), "row numbers do not continue across the parts"
    assert stored_sha == request.tags["kroton/export_sha256"]


def test_a_changed_file_is_imported_again_and_leads_past_to_sync_stay_untouched(
    db_pipeline: Pipeline,
) -> None:
    pipeline, [day] = db_pipeline, past_days(1)
    frame = generate_export(day, 30, seed=24, bad_share=0.0)
    write_export(frame, pipeline.landing, day)
    settled = pipeline.settled_sensor()
    [first], cursor = settled.run_requests, settled.cursor
    assert _import(pipeline, first).success
    # Some leads move on (as syncCourses would move them); the others wait in to_sync.
    with pipeline.engine.begin() as conn:
        moved = conn.execute(
            update(Subscription)
            .where(Subscription.import_date == day, Subscription.row_number <= 10)
            .values(status="to_register")
            .returning(Subscription.cpf)
        )
        moved_cpfs = set(moved.scalars())
    before = {lead["cpf"]: lead for lead in pipeline.subscriptions(day)}

    # Databricks writes the day again: every city changed, five new leads.
    again = pd.concat([frame, generate_export(day, 5, seed=99, bad_share=0.0)])
    again["city"] = "Cidade Nova"
    write_export(again.reset_index(drop=True), pipeline.landing, day)
    [second] = pipeline.settled_sensor(cursor).run_requests
    assert second.run_key != first.run_key
    result = _import(pipeline, second)
    assert result.success
    figures = _metadata(result)
    assert (figures["created"], figures["updated"], figures["untouched"]) == (5, 20, 10)
    assert figures["previous_rows_in"] == 30 and figures["rows_in"] == 35
    assert "5 leads added, 20 updated (still to_sync), 10 untouched" in figures["redelivery"]
    after = {lead["cpf"]: lead for lead in pipeline.subscriptions(day)}
    assert len(after) == 35 and sum(_stored(pipeline, day)) == 35
    for cpf in moved_cpfs:
        assert after[cpf]["city"] == before[cpf]["city"] != "Cidade Nova"
        assert after[cpf]["status"] == "to_register"
    assert all(
        lead["city"] == "Cidade Nova" for cpf, lead in after.items() if cpf not in moved_cpfs
    )


def test_misnamed_exports_are_reported_once_and_other_dates_still_import(
    db_pipeline: Pipeline,
) -> None:
    pipeline, [day, other] = db_pipeline, past_days(2)
    (pipeline.landing / "leads_2026-02-30.csv").write_bytes(_csv(generate_export(day, 3)))
    (pipeline.landing / f"leads_{other.isoformat()}.csv").mkdir()
    write_export(generate_export(day, 20, seed=25), pipeline.landing, day)

    first = pipeline.evaluate_sensor()
    message = str(first.skip_reason)
    assert "leads_2026-02-30.csv skipped: the name does not hold a real date" in message
    assert f"leads_{other.isoformat()}.csv skipped: a directory without the _SUCCESS" in message
    second = pipeline.evaluate_sensor(first.cursor)
    assert [r.partition_key for r in second.run_requests] == [day.isoformat()]
    third = pipeline.evaluate_sensor(second.cursor)
    assert third.run_requests == [] and "skipped" not in str(third.skip_reason)

    assert _import(pipeline, second.run_requests[0]).success
    assert sum(_stored(pipeline, day)) == 20
    missing = pipeline.run("import_leads", other, raise_on_error=False)
    assert not missing.success
    [failure] = [e for e in missing.all_events if e.event_type_value == "STEP_FAILURE"]
    assert f"No export for {other.isoformat()}" in str(failure.event_specific_data)


def test_a_failed_import_is_requested_again_up_to_three_times(db_pipeline: Pipeline) -> None:
    pipeline, [day] = db_pipeline, past_days(1)
    frame = generate_export(day, 20, seed=26)
    path = pipeline.landing / f"leads_{day.isoformat()}.csv"
    path.write_bytes(frame.drop(columns=["cpf"]).to_csv(index=False).encode())  # cannot import
    tick = pipeline.settled_sensor()
    run_keys = []
    for attempt in (1, 2, 3):
        [request] = tick.run_requests
        assert request.tags["kroton/export_attempt"] == str(attempt)
        run_keys.append(request.run_key)
        # Until the requested run has run, the sensor asks for nothing more.
        tick = pipeline.evaluate_sensor(tick.cursor)
        assert tick.run_requests == []
        assert not _import(pipeline, request).success
        tick = pipeline.evaluate_sensor(tick.cursor)
    assert len(set(run_keys)) == 3
    assert tick.run_requests == [] and "failed 3 times" in str(tick.skip_reason)
    quiet = pipeline.evaluate_sensor(tick.cursor)
    assert quiet.run_requests == [] and "failed" not in str(quiet.skip_reason)

    # Databricks delivers a good file: requested and imported; then nothing more.
    write_export(frame, pipeline.landing, day)
    [request] = pipeline.settled_sensor(quiet.cursor).run_requests
    assert _import(pipeline, request).success
    done = pipeline.evaluate_sensor(pipeline.evaluate_sensor(quiet.cursor).cursor)
    assert pipeline.evaluate_sensor(done.cursor).run_requests == []
    assert sum(_stored(pipeline, day)) == 20


def test_a_staged_batch_imports_only_once_complete(db_pipeline: Pipeline) -> None:
    pipeline, [day] = db_pipeline, past_days(1)
    frame = generate_export(day, 40, seed=27, bad_share=0.1)
    rows = [
        {"import_date": day, **{c: (None if v == "" else v) for c, v in row.items()}}
        for row in frame[list(COLUMNS)].to_dict("records")
    ]
    with pipeline.engine.begin() as conn:
        conn.execute(insert(IncomingLead), rows[:25])  # the job is still writing
        conn.execute(insert(IncomingBatch).values(import_date=day, row_count=40))
    assert pipeline.settled_sensor().run_requests == []
    with pipeline.engine.begin() as conn:
        conn.execute(insert(IncomingLead), rows[25:])
    [request] = pipeline.evaluate_sensor().run_requests
    assert request.tags["kroton/export_file"] == f"incoming_leads {day.isoformat()}"
    result = _import(pipeline, request)
    assert result.success
    figures = _metadata(result)
    assert figures["rows_in"] == 40 == figures["imported"] + figures["rejected"]
    assert figures["rejected"] >= 4
    assert _stored(pipeline, day) == (figures["imported"], figures["rejected"])

    # A landing export of the same date comes first: its content is requested next.
    write_export(frame.iloc[:30], pipeline.landing, day)
    [request] = pipeline.settled_sensor().run_requests
    assert request.tags["kroton/export_file"] == f"leads_{day.isoformat()}.csv"
