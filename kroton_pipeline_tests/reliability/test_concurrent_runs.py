"""Several runs at once, as separate OS processes on PostgreSQL, the sandbox's journal as the
judge: every lead is sent exactly once, and an erasure wins every race.

Each run is ``register_worker`` in its own process — what two launches of the ``register``
job, a second deployment or a second daemon on the same database amount to. Only the
database's claims (``db.status_changes``) stand between them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.domain.leads import format_cpf
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.settings import erasure_keys
from kroton_pipeline.steps.erasure import erase_person
from kroton_pipeline_tests.reliability.pipeline_state import (
    assert_history_agrees,
    assert_registered_exactly_once,
    leads_by_id,
    prepare_leads,
    register_posts,
    registrations_per_cpf,
)
from kroton_pipeline_tests.reliability.test_faults import run_registration

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _start(step: str, db_url: str, sandbox: SandboxServer, day: str, run_id: str):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kroton_pipeline_tests.reliability.register_worker",
            step,
            db_url,
            sandbox.kroton_url,
            sandbox.dialect,
            day,
            run_id,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _finish(processes: list[subprocess.Popen]) -> list[dict[str, Any]]:
    """Wait for every run; each must end cleanly (no run crashes)."""
    results = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _wait_for(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the run never got that far"
        time.sleep(0.05)


def _requests_for(sandbox: SandboxServer, cpf: str, since: float) -> list[dict[str, Any]]:
    """Look-ups naming ``cpf`` (either form) and inscriptions created for it after ``since``."""
    forms = (cpf, format_cpf(cpf))
    lookups = [
        e for e in sandbox.journal() if e["time"] >= since and any(f in e["path"] for f in forms)
    ]
    created = [
        i
        for i in sandbox.inscriptions()
        if i["cpf"] == cpf and i["origin"] == "registered" and i["created_at"] >= since
    ]
    return lookups + created


@pytest.mark.parametrize("dialect", ["source"])
@pytest.mark.parametrize("runs", [2, 3])
def test_concurrent_register_runs_post_each_lead_exactly_once(
    postgres_url: str, sandbox: SandboxServer, tmp_path: Path, runs: int
) -> None:
    engine = make_engine(postgres_url)
    leads = prepare_leads(engine, sandbox.catalog_url, tmp_path / "landing", size=16)
    sandbox.clear_journal()
    sandbox.set_faults("register", latency=0.4)  # every POST is slow: the runs overlap
    day = leads.import_date.isoformat()

    results = _finish(
        [_start("register", postgres_url, sandbox, day, f"r{n}") for n in range(runs)]
    )

    per_cpf = registrations_per_cpf(sandbox)
    posts = register_posts(sandbox)
    assert all(count == 1 for count in per_cpf.values()), per_cpf
    assert len(posts) == len(per_cpf) == sum(r["posted"] for r in results)
    assert all(200 <= post["status"] < 300 for post in posts)  # never a 409 saving the day
    assert sum(r["claimed_elsewhere"] for r in results) > 0, "the runs never overlapped"
    assert_registered_exactly_once(engine, sandbox, leads)
    assert_history_agrees(engine)
    engine.dispose()


@pytest.mark.parametrize("dialect", ["source"])
def test_erasure_during_a_register_pass_stops_every_request_for_that_person(
    postgres_url: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    leads = prepare_leads(engine, sandbox.catalog_url, tmp_path / "landing", size=16)
    sandbox.clear_journal()
    sandbox.set_faults("register", latency=0.4)
    target = sorted(leads.to_register)[-2]  # late in the pass, not yet reached
    cpf = leads.cpfs[target]
    run = _start("register", postgres_url, sandbox, leads.import_date.isoformat(), "pass")
    _wait_for(lambda: len(register_posts(sandbox)) >= 3)

    erase_person(engine, cpf, "erasure", keys=erasure_keys())
    committed_at = sandbox.now()
    (result,) = _finish([run])

    assert _requests_for(sandbox, cpf, committed_at) == []
    erased = leads_by_id(engine, [target])[target]
    assert erased["status"] == Status.REGISTER_FAILED.value and erased["cpf"].startswith("X")
    assert erased["sent_at"] is None
    assert result["posted"] == len(register_posts(sandbox))
    assert_history_agrees(engine)
    engine.dispose()


@pytest.mark.parametrize("dialect", ["source"])
def test_erasure_during_a_follow_up_pass_stops_every_request_for_that_person(
    postgres_url: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    leads = prepare_leads(engine, sandbox.catalog_url, tmp_path / "landing", size=16)
    run_registration(engine, sandbox, leads)
    tracked = [
        sub_id
        for sub_id, row in leads_by_id(engine, leads.to_register).items()
        if row["status"] == Status.REGISTERED.value
    ]
    target = sorted(tracked)[-1]
    cpf = leads.cpfs[target]
    sandbox.clear_journal()
    sandbox.set_faults("inscricoes_by_cpf", latency=0.3)
    run = _start("checker", postgres_url, sandbox, leads.import_date.isoformat(), "checker")
    _wait_for(lambda: len(sandbox.journal()) >= 3)

    erase_person(engine, cpf, "erasure", keys=erasure_keys())
    committed_at = sandbox.now()
    _finish([run])

    assert _requests_for(sandbox, cpf, committed_at) == []
    erased = leads_by_id(engine, [target])[target]
    assert erased["next_check_on"] is None  # not re-armed by the pass in flight
    assert_history_agrees(engine)
    engine.dispose()
