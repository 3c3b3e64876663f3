"""End to end: three import dates through the sandbox with the real Dagster machinery.

The landing sensor requests the runs, ``all_jobs`` runs one date and a single-run backfill
the two others, the sandbox clock moves on and ``register``/``checker`` resolve the pending
inscriptions; then every lead's final status is compared with what the sandbox itself holds,
and a second pass over everything must change nothing and send nothing.
"""

from __future__ import annotations

from collections import Counter

import dagster as dg
import pytest

from kroton_pipeline.sandbox.validation import cpf_digits
from kroton_pipeline.settings import today_in_sao_paulo
from kroton_pipeline_tests.pipeline.conftest import (
    AT_KROTON,
    DIALECTS,
    Pipeline,
    past_days,
    poll_now,
)

pytestmark = pytest.mark.integration

IMPORT_ASSETS = ("subscriptions", "subscription_genders", "course_matches", "registrations")
# allJobs runs every action: the checker too, for the same dates.
ALL_JOBS_ASSETS = (*IMPORT_ASSETS, "follow_up_snapshots")
CHECKS = {
    "rows_in_equal_imported_plus_rejected",
    "some_rows_imported",
    "valid_cpfs_only",
    "no_duplicate_cpf",
    "no_unknown_status",
    "to_register_leads_have_two_options",
    "registration_success_rate",
    "no_stuck_leads",
}
# Kroton's own state -> the status the lead must end in (docs/architecture.md, status
# machine), written out independently of the product's tables so that a mistake there shows
# up here.
CLASSIFICATION_STATUS = {
    "Inscrito": "registered",
    "Classificado": "registered",
    "Itinerante": "registered",
    "Inscrito VG Online": "registered",
    "Aluno": "enrolled",
    "Desclassificado por nota": "dropped",
    "Convocado": "enrolled",
    "Ausente": "dropped",
    "Desclassificado": "dropped",
}


def _expected_status(inscription: dict) -> str:
    if inscription["status"] == "ERROR":
        return "failed"
    if inscription["status"] in ("NEW", "PROCESSING"):
        return "awaiting_register"
    return CLASSIFICATION_STATUS[inscription["classificacao"]]


def _materialized(result: dg.ExecuteInProcessResult) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        found[(materialization.asset_key.to_user_string(), str(materialization.partition))] += 1
    return found


@pytest.mark.parametrize("dialect", DIALECTS)
def test_three_import_dates_end_to_end_match_the_sandbox(db_pipeline: Pipeline) -> None:
    pipeline = db_pipeline
    days = past_days(3)
    for number, day in enumerate(days):
        pipeline.export(day, size=40, seed=10 + number)

    # The sensor asks for each date once the file is stable and names it in the run tags.
    assert pipeline.evaluate_sensor().run_requests == []
    sensed = pipeline.settled_sensor()
    requests = {request.partition_key: request.tags for request in sensed.run_requests}
    assert sorted(requests) == [day.isoformat() for day in days]
    for key, tags in requests.items():
        assert tags["kroton/export_file"] == f"leads_{key}.csv"
    assert pipeline.evaluate_sensor(sensed.cursor).run_requests == []

    first = pipeline.run("all_jobs", days[0], tags=requests[days[0].isoformat()])
    backfill = pipeline.run_range("all_jobs", days[1], days[2])
    assert first.success and backfill.success
    assert first.dagster_run.tags["kroton/export_file"] == f"leads_{days[0].isoformat()}.csv"
    # The backfill is one run that materialized every asset for both dates.
    assert _materialized(backfill) == {
        (asset, day.isoformat()): 1 for asset in ALL_JOBS_ASSETS for day in days[1:]
    }
    for asset in ALL_JOBS_ASSETS:
        partitions = pipeline.instance.get_materialized_partitions(dg.AssetKey(asset))
        assert partitions == {day.isoformat() for day in days}
    # Every asset check reports on each materialization, and the data ones pass.
    for result in (first, backfill):
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert set(evaluations) == CHECKS
        data_checks = CHECKS - {"registration_success_rate"}
        assert all(evaluations[name].passed for name in data_checks)

    # Kroton processes the pending inscriptions; register polls them, the checker follows up.
    pipeline.sandbox.advance(15 * 60)
    assert pipeline.run_range("register", days[0], days[-1], run_config=poll_now()).success
    today = today_in_sao_paulo()
    check_all = {"ops": {"follow_up_snapshots": {"config": {"ignore_schedule": True}}}}
    assert pipeline.run("checker", today, run_config=check_all).success

    leads = pipeline.subscriptions()
    statuses = Counter(lead["status"] for lead in leads)
    assert statuses["to_sync"] == statuses["to_register"] == statuses["course_failed"] == 0
    assert statuses["awaiting_register"] == 0, "pending inscriptions were not resolved"
    assert statuses["registered"] > 0 and statuses["empty_course"] > 0

    held = pipeline.inscriptions_by_cpf()
    created = pipeline.inscriptions_by_cpf(origin="registered")
    for lead in leads:
        cpf = cpf_digits(lead["cpf"])
        if lead["status"] in AT_KROTON:
            assert len(held.get(cpf, [])) == 1, f"lead {lead['id']}: not exactly one inscription"
            inscription = held[cpf][0]
            assert lead["kroton_subscription_id"] == inscription["inscricaoId"]
            assert lead["status"] == _expected_status(inscription), f"lead {lead['id']}"
        else:
            assert lead["status"] in ("empty_course", "register_failed")
            assert cpf not in created, f"lead {lead['id']} ({lead['status']}) was inscribed"
    # Every registration POST created one inscription (none refused, none repeated).
    posts = pipeline.requests("register")
    assert all(200 <= post["status"] < 300 for post in posts)
    assert len(posts) == sum(len(items) for items in created.values())
    assert all(len(items) == 1 for items in created.values())

    # A second pass over everything changes nothing and sends nothing.
    journal, history, before = len(pipeline.sandbox.journal()), pipeline.history(), leads
    assert pipeline.run_range("all_jobs", days[0], days[-1]).success
    assert pipeline.run_range("register", days[0], days[-1], run_config=poll_now()).success
    assert pipeline.run("checker", today).success
    assert len(pipeline.sandbox.journal()) == journal, pipeline.sandbox.journal()[journal:]
    assert pipeline.history() == history
    assert [(s["id"], s["status"]) for s in pipeline.subscriptions()] == [
        (s["id"], s["status"]) for s in before
    ]


def test_landing_sensor_requests_each_date_once_and_again_for_a_changed_file(
    pipeline: Pipeline,
) -> None:
    days = past_days(2)
    for day in days:
        pipeline.export(day, size=5, seed=3)
    first = pipeline.settled_sensor()
    assert [r.partition_key for r in first.run_requests] == [d.isoformat() for d in days]
    assert len({r.run_key for r in first.run_requests}) == 2
    assert all(r.tags["kroton/export_sha256"] for r in first.run_requests)

    # Nothing new: no request. Databricks writes day 1 again with other rows: requested again
    # (under a new run key) once the new file is stable.
    assert pipeline.evaluate_sensor(first.cursor).run_requests == []
    pipeline.export(days[0], size=6, seed=4)
    changed = pipeline.settled_sensor(first.cursor)
    assert [r.partition_key for r in changed.run_requests] == [days[0].isoformat()]
    assert changed.run_requests[0].run_key not in {r.run_key for r in first.run_requests}

    # A new day is picked up on its own.
    today = today_in_sao_paulo()
    pipeline.export(today, size=5, seed=5)
    latest = pipeline.settled_sensor(changed.cursor)
    assert [r.partition_key for r in latest.run_requests] == [today.isoformat()]
