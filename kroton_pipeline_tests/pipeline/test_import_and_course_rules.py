"""Import and course matching through Dagster: import contract, idempotency, catalog searches."""

from __future__ import annotations

import dagster as dg
import pytest
from sqlalchemy import func, select

from kroton_pipeline.db.models import CourseOption, LeadRejection, Subscription
from kroton_pipeline.domain.kroton_api import CourseSearch
from kroton_pipeline.sandbox.export_generator import SEARCH_KEYS, generate_export, write_export
from kroton_pipeline_tests.pipeline.conftest import Pipeline, past_days

pytestmark = pytest.mark.integration


def _failure(result: dg.ExecuteInProcessResult) -> str:
    (event,) = result.get_step_failure_events()
    data = event.step_failure_data
    return (data.user_failure_data.description if data.user_failure_data else "") + str(
        data.error.message if data.error else ""
    )


def _counts(pipeline: Pipeline) -> tuple[int, int]:
    with pipeline.engine.connect() as conn:
        subs = conn.execute(select(func.count()).select_from(Subscription)).scalar_one()
        rejected = conn.execute(select(func.count()).select_from(LeadRejection)).scalar_one()
    return subs, rejected


def _import_metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    return {key: value.value for key, value in metadata.items()}


def test_reimport_of_the_same_date_is_idempotent(db_pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    frame = db_pipeline.export(day, size=50, seed=31, bad_share=0.1)

    first = _import_metadata(db_pipeline.run("import_leads", day))
    counts, history = _counts(db_pipeline), db_pipeline.history()
    second = _import_metadata(db_pipeline.run("import_leads", day))

    for metadata in (first, second):
        assert metadata["rows_in"] == len(frame) == metadata["imported"] + metadata["rejected"]
    assert first["rejected"] > 0 and second["created"] == 0
    assert _counts(db_pipeline) == counts == (first["imported"], first["rejected"])
    assert db_pipeline.history() == history


def test_day_without_an_export_fails_alone_naming_the_date(pipeline: Pipeline) -> None:
    missing, present = past_days(2)
    frame = pipeline.export(present, size=10, seed=32)

    single = pipeline.run("import_leads", missing, raise_on_error=False)
    assert not single.success
    assert missing.isoformat() in _failure(single)
    assert _counts(pipeline) == (0, 0)
    # In a backfill of both dates, the missing one fails; the other is imported and
    # materialized with its own figures.
    ranged = pipeline.run_range("import_leads", missing, present, raise_on_error=False)
    assert not ranged.success
    assert missing.isoformat() in _failure(ranged)
    assert sum(_counts(pipeline)) == len(frame)
    materialized = {
        event.partition: event.step_materialization_data.materialization.metadata
        for event in ranged.get_asset_materialization_events()
    }
    assert list(materialized) == [present.isoformat()]
    assert materialized[present.isoformat()]["rows_in"].value == len(frame)


def test_missing_required_column_fails_naming_it(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    frame = generate_export(day, 10, seed=33).drop(columns=["birthday"])
    frame.to_csv(pipeline.landing / f"leads_{day.isoformat()}.csv", index=False)

    result = pipeline.run("import_leads", day, raise_on_error=False)

    assert not result.success
    assert "birthday" in _failure(result)
    assert _counts(pipeline) == (0, 0)


def _usable_offers(frame) -> dict[CourseSearch, int]:
    usable = {}
    for fields, offers in frame.attrs["searches"]:
        values = dict(zip(SEARCH_KEYS, fields, strict=True))
        search = CourseSearch.from_row(
            {
                "course_name": values["dsCurso"],
                "unit_id": values["idUnidadeOrigem"],
                "course_type": values["dsTipoCurso"],
                "monthly_price": values["vlMensalidadeDe"],
                "modality": values["dsModalidade"],
                "capture_period": values["periodoCaptacao"],
            }
        )
        usable[search] = offers
    return usable


def test_lead_with_too_few_offers_ends_empty_course(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    frame = pipeline.export(day, size=60, seed=34, bad_share=0.0, distinct_searches=12)
    usable = _usable_offers(frame)
    assert any(count < 2 for count in usable.values())
    pipeline.prepare(day)

    with pipeline.engine.connect() as conn:
        options = dict(
            conn.execute(
                select(CourseOption.subscription_id, func.count()).group_by(
                    CourseOption.subscription_id
                )
            ).all()
        )
    checked = 0
    for lead in pipeline.subscriptions():
        if lead["gender"] == "NI":
            continue
        checked += 1
        if usable[CourseSearch.from_row(lead)] < 2:
            assert lead["status"] == "empty_course"
            assert lead["id"] not in options
        else:
            assert lead["status"] == "to_register"
            assert options[lead["id"]] == 2
    assert checked > 40


def test_identical_catalog_searches_are_made_once(pipeline: Pipeline) -> None:
    first, second = past_days(2)
    frame = pipeline.export(first, size=40, seed=35, distinct_searches=6)
    # The next day's leads want the same courses: one search each serves both days.
    other = generate_export(second, 40, seed=36)
    course_columns = [
        "course_name",
        "unit_id",
        "course_type",
        "modality",
        "monthly_price",
        "capture_period",
        "system",
        "campus",
    ]
    other[course_columns] = frame[course_columns].to_numpy()
    write_export(other, pipeline.landing, second)
    pipeline.run_range("import_leads", first, second)
    pipeline.run_range("fix_data", first, second)
    waiting = {
        CourseSearch.from_row(lead)
        for lead in pipeline.subscriptions()
        if lead["status"] == "to_sync" and lead["gender"] != "NI"
    }

    result = pipeline.run_range("sync_courses", first, second)

    assert len(pipeline.requests("catalog_search")) == len(waiting)
    (event,) = result.get_asset_materialization_events()[:1]
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["distinct_searches"].value == len(waiting)
