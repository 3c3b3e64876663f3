"""No double registration, ever: the registration process killed at each point of
mark → send → record, then run again (docs/operations.md, Reliability).

The registration step runs in a child process that SIGKILLs itself at a checkpoint of
``register_leads`` (the third lead it sends), so the kill lands on the exact point every
time. The next run must reconcile the lead by a CPF look-up and never send it blindly.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.steps.register_leads import CHECKPOINTS, register_leads
from kroton_pipeline_tests.reliability.pipeline_state import (
    RULES,
    PreparedLeads,
    assert_registered_exactly_once,
    kroton_client,
    leads_by_id,
    let_claims_expire,
    register_posts,
    registrations_per_cpf,
)

KILLED_AT_LEAD = 3


def _run_killed(db_url: str, sandbox: SandboxServer, leads: PreparedLeads, point: str) -> int:
    """Run the worker until it kills itself; return the id of the lead it was handling."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kroton_pipeline_tests.reliability.crash_worker",
            db_url,
            sandbox.kroton_url,
            sandbox.dialect,
            leads.import_date.isoformat(),
            point,
            str(KILLED_AT_LEAD),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == -9, f"worker was not killed: rc={done.returncode} {done.stderr}"
    return int(done.stdout.split()[-1])


@pytest.mark.integration
@pytest.mark.parametrize("point", CHECKPOINTS)
def test_registration_killed_at_any_point_registers_each_lead_exactly_once(
    db_url: str, db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads, point: str
) -> None:
    killed_id = _run_killed(db_url, sandbox, leads, point)
    killed = leads_by_id(db_engine, [killed_id])[killed_id]
    stored = registrations_per_cpf(sandbox)[killed["cpf"]]
    # The kill left the lead marked, without a recorded result, whatever Kroton holds.
    assert killed["status"] == Status.TO_REGISTER.value
    assert killed["sent_at"] is not None
    assert killed["kroton_subscription_id"] is None
    assert stored == (0 if point == "marked" else 1)
    posts_before = len(register_posts(sandbox))
    let_claims_expire(db_engine)  # the dead run's claim on the lead expires

    client = kroton_client(sandbox.kroton_url, dialect=sandbox.dialect)
    try:
        result = register_leads(
            db_engine, client, leads.import_date, RULES, "rerun", poll_after=timedelta(0)
        )
    finally:
        client.close()

    assert result.reconciled == 1
    assert_registered_exactly_once(db_engine, sandbox, leads)
    after = leads_by_id(db_engine, [killed_id])[killed_id]
    assert after["status"] != Status.REGISTER_FAILED.value
    assert registrations_per_cpf(sandbox)[killed["cpf"]] == 1
    # Only a lead Kroton never got is sent again, and then once.
    resent = len(register_posts(sandbox)) - posts_before
    posted_by_rerun = result.posted
    assert resent == posted_by_rerun
    if point != "marked":
        assert all(200 <= e["status"] < 300 for e in register_posts(sandbox))
