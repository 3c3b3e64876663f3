"""Two deployments on one database by mistake: a second code server and a second daemon.

An operator deploys ``deploy/`` twice against the same Dagster database and the same
pipeline database (a second compose project, a copied Helm release). Each daemon runs the
sensors, the run queue and the run retries for its own code server; both read and write the
same runs, sensor state, retry cursor and pool limits. Dagster does not stop the second
daemon: each logs "Another ... daemon is still sending heartbeats" and goes on. Both daemons
start together with two exports already landed, so both evaluate the landing sensor and
drain the queue at the same moment; then the running run's worker is killed
mid-registration, so both daemons see the failure that run retries act on.

Seen on Dagster 1.13.27: when the two sensor evaluations share a tick, the second copy of a
run fails on its reserved run id; when they make a tick each, every export gets two runs,
which the pool limit runs one after the other (the second finds nothing to send). The killed
run was retried once. Both queue daemons launch runs, each to its own code server.

The judge is the sandbox's journal: every lead POSTed exactly once, whichever daemon
launched whichever run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import dagster as dg
import pytest

from kroton_pipeline_tests.deploy.graphql import STARTED_PROCESS
from kroton_pipeline_tests.deploy.services import kill_tree, wait_until
from kroton_pipeline_tests.deploy.stack import Stack, past_import_dates

# Beside the other tests, the two deployment tests one after the other on one worker: each
# starts the processes of deploy/ on fixed ports (in network namespaces when there are).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.topology,
    pytest.mark.slow,
    pytest.mark.xdist_group("deploy"),
]

TWO_DAEMONS = "daemon is still sending heartbeats"


@pytest.fixture
def instance(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    """The Dagster instance both deployments share, read from the test (an operator's shell)."""
    for name, value in stack.dagster_pg_env().items():
        monkeypatch.setenv(name, value)
    home = stack.dagster_home("operator")
    with dg.DagsterInstance.from_config(str(home)) as shared:
        yield shared


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        found = STARTED_PROCESS.search(entry.message or "")
        if found:
            return int(found.group(1))
    return None


def settled(instance: dg.DagsterInstance, partitions: set[str]) -> list[dg.DagsterRun] | None:
    """Every run, once each partition has succeeded and nothing is queued or running."""
    runs = instance.get_runs()
    succeeded = {r.tags.get("dagster/partition") for r in runs if r.status.value == "SUCCESS"}
    return runs if succeeded >= partitions and all(r.is_finished for r in runs) else None


def test_a_second_deployment_on_the_same_database_sends_no_lead_twice(
    stack: Stack, instance: dg.DagsterInstance
) -> None:
    began = time.monotonic()
    days = past_import_dates(2)
    for day in days:
        stack.land_export(day, size=20)
    sandbox = stack.start_sandbox()
    sandbox.ready()
    sandbox.set_faults("register", latency=0.3)  # room to kill a run mid-registration
    code_servers = [stack.start_code_server(sandbox, name) for name in ("-a", "-b")]
    daemons = [stack.start_daemon(server, server.name[-2:]) for server in code_servers]

    wait_until(lambda: len(sandbox.registrations()) >= 3, 180, "the first run to POST leads")
    started = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])
    in_progress = wait_until(lambda: instance.get_runs(started), 30, "the registering run")
    assert len(in_progress) == 1, "the pool lets one run call Kroton at a time"  # type: ignore[arg-type]
    running = in_progress[0]  # type: ignore[index]
    pid = worker_pid(instance, running.run_id)
    assert pid is not None
    kill_tree(pid)

    partitions = {day.isoformat() for day in days}
    wait_until(lambda: settled(instance, partitions), 240, "both partitions to succeed")
    time.sleep(10)  # room for a late duplicate (a second sensor tick, a second retry)
    runs = wait_until(lambda: settled(instance, partitions), 240, "every run to finish")

    retries = [r for r in runs if r.parent_run_id == running.run_id]  # type: ignore[union-attr]
    per_partition = Counter(r.tags.get("dagster/partition") for r in runs)  # type: ignore[union-attr]
    print(f"runs per partition: {dict(per_partition)}; retries of the killed run: {len(retries)}")
    for daemon in daemons:
        text = daemon.log.read_text(errors="replace")
        print(f"{daemon.name}: {text.count(TWO_DAEMONS)} 'another daemon' errors")

    posts = sandbox.registrations()
    ours = Counter(i["cpf"] for i in sandbox.inscriptions() if i["origin"] == "registered")
    twice = {cpf: count for cpf, count in ours.items() if count > 1}
    answers = Counter(post["status"] for post in posts)
    print(f"{len(posts)} registration POSTs, answers {dict(answers)}, {len(twice)} CPFs twice")
    assert not twice, f"{len(twice)} leads registered twice"
    assert answers == {200: len(ours)}, f"POSTs answered {dict(answers)} for {len(ours)} leads"
    print(f"two deployments: {time.monotonic() - began:.0f} s")
