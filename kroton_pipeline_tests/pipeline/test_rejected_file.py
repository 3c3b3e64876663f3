"""A file whose every row is rejected fails the ``some_rows_imported`` check and alerts."""

from __future__ import annotations

import pytest

from kroton_pipeline.notifications.reporter import RunReporter
from kroton_pipeline.notifications.run_facts import RunFacts
from kroton_pipeline.settings import AlertThresholds
from kroton_pipeline_tests.pipeline.conftest import Pipeline, past_days

pytestmark = pytest.mark.integration


def _shift_every_row(csv_text: str) -> str:
    """An unquoted comma in every data row's first field: one field too many each."""
    header, *rows = csv_text.splitlines()
    return "\n".join([header, *[f"x,{row}" for row in rows]]) + "\n"


def test_a_wholly_rejected_file_fails_its_check_and_alerts_once(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=12, seed=3)
    path = pipeline.landing / f"leads_{day.isoformat()}.csv"
    path.write_text(_shift_every_row(path.read_text(encoding="utf-8")), encoding="utf-8")

    result = pipeline.run("import_leads", day)

    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["some_rows_imported"].passed
    assert checks["some_rows_imported"].metadata["rejected"].value == 12
    assert checks["some_rows_imported"].metadata["main_rejection_reason"].value == (
        "wrong_field_count"
    )
    assert checks["rows_in_equal_imported_plus_rejected"].passed

    reporter = RunReporter(pipeline.engine, AlertThresholds(), "http://ui")
    facts = RunFacts("import_leads", result.run_id, str(day), [day], 1.0, {"subscriptions": [{}]})
    [started] = [m for m in reporter.alerts(facts) if "every row" in m.text]
    assert "Alert started" in started.text and f"{day.isoformat()} (12 rows)" in started.text
    assert not [m for m in reporter.alerts(facts) if "every row" in m.text]  # said once

    pipeline.export(day, size=12, seed=3)  # the export is fixed and imported again
    result = pipeline.run("import_leads", day)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["some_rows_imported"].passed
    facts = RunFacts("import_leads", result.run_id, str(day), [day], 1.0, {"subscriptions": [{}]})
    [cleared] = [m for m in reporter.alerts(facts) if "every row" in m.text]
    assert "Alert cleared" in cleared.text
