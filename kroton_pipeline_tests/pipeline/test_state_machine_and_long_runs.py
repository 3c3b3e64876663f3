"""The status machine through the pipeline (history, illegal moves) and long runs."""

from __future__ import annotations

import gc
import itertools
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes
from kroton_pipeline.defs.common.metadata import ProgressReporter
from kroton_pipeline.domain.statuses import IllegalTransition, Status
from kroton_pipeline.sandbox.messages import Credentials
from kroton_pipeline.sandbox.validation import cpf_digits
from kroton_pipeline_tests.pipeline.conftest import Pipeline, past_days, poll_now

pytestmark = pytest.mark.integration


def test_every_status_change_has_a_history_row_with_its_run_id(db_pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    db_pipeline.export(day, size=40, seed=41)
    runs = [db_pipeline.run("all_jobs", day)]
    db_pipeline.sandbox.advance(15 * 60)
    runs.append(db_pipeline.run("register", day, run_config=poll_now()))
    run_ids = {result.run_id for result in runs}

    history = db_pipeline.history()
    by_lead: dict[int, list[dict]] = {}
    for row in history:
        by_lead.setdefault(row["subscription_id"], []).append(row)
    leads = db_pipeline.subscriptions()
    assert set(by_lead) == {lead["id"] for lead in leads}
    for lead in leads:
        chain = by_lead[lead["id"]]
        # None -> to_sync, then each row starts where the previous one ended, ending at the
        # lead's current status: no change went unrecorded.
        assert chain[0]["from_status"] is None and chain[0]["to_status"] == "to_sync"
        for before, after in itertools.pairwise(chain):
            assert after["from_status"] == before["to_status"]
        assert chain[-1]["to_status"] == lead["status"]
        assert {row["run_id"] for row in chain} <= run_ids


def test_illegal_transition_raises_and_writes_nothing(db_pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    db_pipeline.export(day, size=10, seed=42)
    db_pipeline.run("import_leads", day)
    lead = db_pipeline.subscriptions()[0]
    history = db_pipeline.history()

    with (
        pytest.raises(IllegalTransition, match="to_sync -> enrolled"),
        db_pipeline.engine.begin() as conn,
    ):
        apply_status_changes(conn, [StatusChange(lead["id"], Status.ENROLLED)], "run")

    assert db_pipeline.subscriptions()[0]["status"] == "to_sync"
    assert db_pipeline.history() == history


def test_progress_lines_report_done_total_and_eta(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=30, seed=43)
    result = pipeline.run("all_jobs", day)

    messages = [entry.user_message for entry in pipeline.instance.all_logs(result.run_id)]
    # Lines name the date; a phase that ends before the first interval gets one line, its end.
    line = re.compile(
        rf"^register {day.isoformat()}: (\d+)/(\d+) done \(\d+%\)"
        r"(, [\d.]+/s, ETA \d+:\d\d:\d\d| in \d+:\d\d:\d\d)$"
    )
    done = [m for m in messages if line.match(m)]
    assert done, "no progress line for the registration loop"
    assert any(m.startswith(f"searches {day.isoformat()}: ") for m in messages)
    assert not any("ETA 0:00:00" in m for m in messages)


def test_progress_reporter_logs_at_most_every_interval_and_at_the_end() -> None:
    lines: list[str] = []

    class Log:
        def info(self, message: str) -> None:
            lines.append(message)

    now = [0.0]
    report = ProgressReporter(Log(), every_seconds=30, clock=lambda: now[0])
    for done in range(1, 101):
        now[0] = done * 1.0  # one lead per second
        report("register", done, 100)
    # Every 30 s of the clock from the phase's first call (at 1 s), plus the end of the phase.
    assert [line.split(" done")[0] for line in lines] == [
        "register: 31/100",
        "register: 61/100",
        "register: 91/100",
        "register: 100/100",
    ]
    # The ETA rests on measured work: 30 leads in 30 s, 69 to go.
    assert lines[0].endswith("1.03/s, ETA 0:01:07")
    assert lines[-1].endswith("in 0:01:39")


def test_run_stopped_in_the_middle_resumes_without_resending(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=60, seed=44)
    pipeline.prepare(day)
    sandbox = pipeline.sandbox
    sandbox.set_faults("register", latency=0.02)  # slow enough to stop it half-way
    outcome: list[dg.ExecuteInProcessResult] = []
    runner = threading.Thread(
        target=lambda: outcome.append(pipeline.run("register", day, raise_on_error=False))
    )
    runner.start()
    deadline = time.monotonic() + 30
    while len(pipeline.requests("register")) < 10 and time.monotonic() < deadline:
        time.sleep(0.005)
    # Credentials rotated at Kroton: the token is refused and cannot be renewed — the run stops.
    sandbox.app.credentials = Credentials(client_secret="rotated")
    sandbox.revoke_tokens()
    runner.join(timeout=60)
    assert outcome and not outcome[0].success

    halfway = pipeline.statuses(day)
    assert 0 < halfway["to_register"] < sum(halfway.values())
    first_posts = len(pipeline.requests("register"))

    sandbox.app.credentials = Credentials()
    sandbox.clear_faults()
    assert pipeline.run("register", day).success

    assert pipeline.statuses(day)["to_register"] == 0
    created = pipeline.inscriptions_by_cpf(origin="registered")
    assert all(len(items) == 1 for items in created.values()), "a lead was posted twice"
    accepted = [p for p in pipeline.requests("register") if p["status"] == 200]
    assert len(accepted) == len(created)
    assert len(pipeline.requests("register")) - first_posts <= halfway["to_register"]
    for lead in pipeline.subscriptions(day):
        if cpf_digits(lead["cpf"]) in created:
            assert (
                lead["kroton_subscription_id"] == created[cpf_digits(lead["cpf"])][0]["inscricaoId"]
            )


def test_definitions_load_against_their_own_instance_after_instances_closed_out_of_order(
    make_pipeline: Callable[[str, dg.DagsterInstance], Pipeline],
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    # Two instances closed in the order they were opened leave the first one's (collected)
    # state storage in context, as fixtures of earlier tests on one worker can.
    for name in ("first", "second", "own"):
        (tmp_path / name).mkdir()
    first = dg.instance_for_test(temp_dir=str(tmp_path / "first"))
    second = dg.instance_for_test(temp_dir=str(tmp_path / "second"))
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    gc.collect()

    with dg.instance_for_test(temp_dir=str(tmp_path / "own")) as instance:
        pipeline = make_pipeline(sqlite_url, instance)
        (day,) = past_days(1)
        pipeline.export(day, size=5, seed=45)
        assert pipeline.run("import_leads", day).success
