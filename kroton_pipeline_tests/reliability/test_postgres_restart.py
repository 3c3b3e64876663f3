"""PostgreSQL restarted in the middle of a registration run (slow; CI's own server).

The server is restarted with ``pg_ctlcluster`` while the run is sending: the run either
finishes or fails with a database error (nothing else), and the next run finishes with every
lead registered exactly once. The shared rate budget lives in the same database, as in
production, so the restart hits it too.
"""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from kroton_pipeline.clients.kroton import KrotonClient
from kroton_pipeline.clients.transport import make_budget
from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.settings import API_FORMATS, SANDBOX_CREDENTIALS
from kroton_pipeline.steps.register_leads import register_leads
from kroton_pipeline_tests.reliability.pipeline_state import (
    FAST_RETRIES,
    RULES,
    assert_registered_exactly_once,
    let_claims_expire,
    prepare_leads,
    register_posts,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.serial]


def _cluster() -> list[str]:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def _wait_until_ready(seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], check=False)
        if ready.returncode == 0:
            return
        time.sleep(0.5)
    subprocess.run([*_cluster(), "start"], check=False)  # leave the server up for the rest
    raise AssertionError("PostgreSQL did not come back")


def _client(database_url: str, sandbox: SandboxServer) -> KrotonClient:
    return KrotonClient(
        base_url=sandbox.kroton_url,
        api_format=API_FORMATS[sandbox.dialect],  # type: ignore[index]
        client_id=SANDBOX_CREDENTIALS["API_KROTON_CLIENT_ID"],
        client_secret=SANDBOX_CREDENTIALS["API_KROTON_SECRET"],
        subscription_key=SANDBOX_CREDENTIALS["API_KROTON_SUBSCRIPTION"],
        budget=make_budget(database_url, "kroton", 100_000, 1.0),
        policy=FAST_RETRIES,
    )


@pytest.fixture
def restartable_server() -> None:
    if not Path("/etc/postgresql").is_dir():
        pytest.skip("no local PostgreSQL cluster to restart (pg_ctlcluster)")


def test_postgres_restart_mid_run_then_next_run_finishes(
    restartable_server: None,
    postgres_url: str,
    postgres_server: object,
    sandbox: SandboxServer,
    tmp_path: Path,
) -> None:
    engine = make_engine(postgres_url)
    leads = prepare_leads(engine, sandbox.catalog_url, tmp_path / "landing", size=24)
    sandbox.clear_journal()
    sandbox.set_faults("register", latency=0.3)  # the run is mid-flight when the server goes
    restarts: list[threading.Thread] = []

    def restart_at_third_post(point: str, _sub_id: int) -> None:
        if point == "marked" and not restarts and len(register_posts(sandbox)) == 2:
            restarts.append(
                threading.Thread(target=subprocess.run, args=([*_cluster(), "restart"],))
            )
            restarts[0].start()

    client = _client(postgres_url, sandbox)
    outcome = "finished"
    try:
        try:
            register_leads(
                engine,
                client,
                leads.import_date,
                RULES,
                "restarted",
                poll_after=timedelta(0),
                checkpoint=restart_at_third_post,
            )
        except DBAPIError:  # failing cleanly: a database error, nothing half-recorded
            outcome = "failed cleanly"
    finally:
        client.close()
        for thread in restarts:
            thread.join()
        _wait_until_ready()
    assert restarts, "the restart never happened"
    engine.dispose()
    postgres_server.admin.dispose()  # type: ignore[attr-defined]  # its pool saw the restart

    sandbox.clear_faults()
    engine = make_engine(postgres_url)
    client = _client(postgres_url, sandbox)
    try:
        let_claims_expire(engine)  # the interrupted run may have died holding a claim
        register_leads(engine, client, leads.import_date, RULES, "next", poll_after=timedelta(0))
        assert_registered_exactly_once(engine, sandbox, leads)
    finally:
        client.close()
        engine.dispose()
    print(f"run during the restart: {outcome}")
