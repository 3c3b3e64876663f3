"""Faults survived: whatever Kroton does, no lead is lost or registered twice.

Each test prepares a dozen leads in ``to_register``, makes the sandbox misbehave and runs the
registration step; when a run cannot finish under the fault, the fault is lifted and the
next run must finish. After every scenario: each lead settled exactly once at Kroton,
none stuck, none lost, statuses and ``status_history`` agree
(:func:`assert_registered_exactly_once`).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.steps.register_leads import RegistrationResult, register_leads
from kroton_pipeline_tests.reliability.pipeline_state import (
    RULES,
    PreparedLeads,
    assert_history_agrees,
    assert_registered_exactly_once,
    kroton_client,
    leads_by_id,
    let_claims_expire,
    register_posts,
    registrations_per_cpf,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def db_url(postgres_url: str) -> str:
    """These faults are HTTP faults: they run on PostgreSQL, production's database (the crash
    tests cover SQLite too), which keeps the suite's time down."""
    return postgres_url


def run_registration(
    engine: Engine, sandbox: SandboxServer, leads: PreparedLeads, **kwargs: object
) -> RegistrationResult:
    """One run of the registration step, with a fresh client as a new run would have, some
    time after the previous one (whose claims have expired)."""
    let_claims_expire(engine)
    client = kroton_client(
        sandbox.kroton_url,
        dialect=sandbox.dialect,
        timeout=kwargs.pop("timeout", 5.0),  # type: ignore[arg-type]
    )
    try:
        return register_leads(
            engine,
            client,
            leads.import_date,
            RULES,
            kwargs.pop("run_id", "fault-run"),  # type: ignore[arg-type]
            poll_after=timedelta(0),
            **kwargs,  # type: ignore[arg-type]
        )
    finally:
        client.close()


def waiting(engine: Engine, leads: PreparedLeads) -> int:
    rows = leads_by_id(engine, leads.to_register).values()
    return sum(1 for row in rows if row["status"] == Status.TO_REGISTER.value)


def finish_after_fault(engine: Engine, sandbox: SandboxServer, leads: PreparedLeads) -> None:
    """Lift every fault and run once more: that run must leave nothing waiting."""
    sandbox.clear_faults()
    run_registration(engine, sandbox, leads, run_id="after-fault")
    assert waiting(engine, leads) == 0
    assert_registered_exactly_once(engine, sandbox, leads)


def assert_registered_exactly_once_so_far(
    engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    """Mid-scenario: nothing registered twice, no 409, history consistent (leads may wait)."""
    assert max(registrations_per_cpf(sandbox).values(), default=0) <= 1
    assert not [e for e in register_posts(sandbox) if e["status"] == 409]
    assert_history_agrees(engine)


def test_burst_of_503s_on_lookups_is_retried(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    sandbox.set_faults("*", burst=12)
    result = run_registration(db_engine, sandbox, leads)
    assert sum(1 for e in sandbox.journal() if e["status"] == 503) == 12
    assert result.transient_failures > 0  # some leads gave up for this run, kept waiting
    finish_after_fault(db_engine, sandbox, leads)


def test_burst_of_503s_on_registration_is_reconciled_then_sent_once(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    sandbox.set_faults("register", burst=3)
    first = run_registration(db_engine, sandbox, leads)
    # A 5xx to a POST may hide a stored registration: never re-sent by the client.
    assert first.unknown_outcomes == 3
    sandbox.clear_faults()
    second = run_registration(db_engine, sandbox, leads, run_id="after-fault")
    # The 503s were not stored: the look-up finds nothing, so each is sent again, once.
    assert second.reconciled == 3
    assert second.posted == 3
    assert_registered_exactly_once(db_engine, sandbox, leads)


def test_thirty_percent_random_5xx_over_several_runs(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    sandbox.set_faults("*", error_rate=0.3)
    results = []
    for run in range(3):  # three runs under the fault, each resuming where the last stopped
        results.append(run_registration(db_engine, sandbox, leads, run_id=f"faulty-{run}"))
        assert_registered_exactly_once_so_far(db_engine, sandbox, leads)
    assert any(e["status"] >= 500 for e in sandbox.journal())
    assert sum(r.unknown_outcomes for r in results) > 0
    assert sum(r.reconciled for r in results) > 0
    finish_after_fault(db_engine, sandbox, leads)


def test_timeouts_are_unknown_outcomes_reconciled_by_lookup(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    sandbox.set_faults("*", timeout_rate=0.3)
    first = run_registration(db_engine, sandbox, leads, timeout=0.3)
    assert_registered_exactly_once_so_far(db_engine, sandbox, leads)
    assert first.unknown_outcomes > 0
    sandbox.clear_faults()
    second = run_registration(db_engine, sandbox, leads, run_id="after-fault")
    # The sandbox times out before storing: each look-up finds nothing, each is sent once.
    assert second.reconciled == first.unknown_outcomes
    assert waiting(db_engine, leads) == 0
    assert_registered_exactly_once(db_engine, sandbox, leads)


def test_malformed_json_answers(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    sandbox.set_faults("*", malformed_rate=0.3)
    first = run_registration(db_engine, sandbox, leads)
    assert_registered_exactly_once_so_far(db_engine, sandbox, leads)
    assert first.unknown_outcomes > 0
    posts = len(register_posts(sandbox))
    finish_after_fault(db_engine, sandbox, leads)
    # A garbled 200 means the registration was stored: found by look-up, not sent again.
    assert len(register_posts(sandbox)) == posts


def test_registration_stored_but_answered_500_is_never_sent_again(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    sandbox.set_faults("register", error_after_store_rate=1.0)
    first = run_registration(db_engine, sandbox, leads)
    assert first.unknown_outcomes == first.posted > 0
    assert sum(registrations_per_cpf(sandbox).values()) == first.posted
    finish_after_fault(db_engine, sandbox, leads)
    assert len(register_posts(sandbox)) == first.posted  # the rerun sent nothing


def test_429_storm_waits_without_losing_attempts(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    sandbox.configure(rate_limit=10, rate_window=1.0)
    result = run_registration(db_engine, sandbox, leads)
    assert any(e["status"] == 429 for e in sandbox.journal())
    # Waiting for the rate limit is not a failure: the one run finishes everything.
    assert result.transient_failures == 0
    assert waiting(db_engine, leads) == 0
    assert_registered_exactly_once(db_engine, sandbox, leads)


def test_token_revoked_mid_run_is_renewed(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    def revoke_now_and_then(stage: str, done: int, _total: int) -> None:
        if stage == "register" and done in (2, 5):
            sandbox.revoke_tokens()

    result = run_registration(db_engine, sandbox, leads, progress=revoke_now_and_then)
    assert sum(1 for e in sandbox.journal() if e["status"] == 401) == 2
    assert result.transient_failures == 0
    assert waiting(db_engine, leads) == 0
    assert_registered_exactly_once(db_engine, sandbox, leads)


OUTAGE_SECONDS = 5.0


def test_sandbox_down_for_a_while_then_back(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    """Kroton goes away in the middle of a POST and stays away for a few seconds.

    Five seconds stand for "a minute" or an hour: the client's whole retry budget for one
    request (4 attempts, backoff capped at 0.2 s here, ~30 s in production) is shorter than
    the outage, so every request made during it ends exactly as it would in a longer one —
    a transient failure (nothing sent) or an unknown outcome (sent, answer lost) — and the
    run goes on to the next lead. What a longer outage adds is only more leads in the same
    two states.
    """
    sandbox.set_faults("register", latency=0.5)  # the POST is in flight when Kroton goes
    outage: list[threading.Thread] = []

    def go_down_during_third_post(point: str, _sub_id: int) -> None:
        if point == "marked" and not outage and len(register_posts(sandbox)) == 2:

            def down_then_up() -> None:
                time.sleep(0.2)
                sandbox.stop()
                time.sleep(OUTAGE_SECONDS)
                sandbox.start()

            outage.append(threading.Thread(target=down_then_up))
            outage[0].start()

    started = time.monotonic()
    result = run_registration(db_engine, sandbox, leads, checkpoint=go_down_during_third_post)
    assert outage, "the outage never started"
    assert time.monotonic() - started < OUTAGE_SECONDS + 1  # the run did not hang on it
    assert result.transient_failures + result.unknown_outcomes > 0
    outage[0].join()
    assert_registered_exactly_once_so_far(db_engine, sandbox, leads)
    finish_after_fault(db_engine, sandbox, leads)


def test_a_lead_that_cannot_be_sent_fails_alone_and_never_blocks_its_date(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads
) -> None:
    broken, erased, *others = leads.to_register
    with db_engine.begin() as conn:
        conn.execute(update(Subscription).where(Subscription.id == broken).values(cpf="123"))
        conn.execute(
            update(Subscription).where(Subscription.id == erased).values(cpf="X0000000001")
        )
    result = run_registration(db_engine, sandbox, leads)
    rows = leads_by_id(db_engine, leads.to_register)
    assert rows[broken]["status"] == Status.REGISTER_FAILED.value
    assert rows[broken]["status_reason"] == "invalid_payload: dadosPessoais.cpf"
    assert rows[erased]["status"] == Status.REGISTER_FAILED.value
    assert rows[erased]["status_reason"] == "personal_data_erased"
    assert all(rows[i]["status"] != Status.TO_REGISTER.value for i in others)
    assert result.posted == len(register_posts(sandbox)) > 0
