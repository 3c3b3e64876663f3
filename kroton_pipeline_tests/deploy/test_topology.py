"""The topology test: the pipeline as production runs it, driven through Dagster's GraphQL API.

Separate OS processes, each on a host of its own where the machine allows (network
namespaces): the sandbox Kroton, the user-code gRPC server (``dagster api grpc -m
kroton_pipeline.definitions``), ``dagster-webserver`` and ``dagster-daemon``, on
``deploy/dagster.yaml`` as shipped, with Dagster's storage and the pipeline's database on
PostgreSQL. The deploy steps run first (migrations, pool limits). Then, as an operator sees it:

1. the landing sensor picks up two exports; each run executes in a process of its own, and
   the two (both need ``kroton_api``) take turns in the queue;
2. while the second registers leads, the daemon is SIGKILLed: the run goes on without it;
   then the run's own processes are SIGKILLed too (their machine is lost). The code server
   fails the run with the reason, the restarted daemon retries it from the failed step;
3. a backfill of two import dates, launched while all this went on, completes as one run;
4. the sandbox's journal: every lead was POSTed exactly once.
"""

from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import select

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.db.models import Subscription
from kroton_pipeline_tests.deploy.graphql import DagsterGraphQL, Run
from kroton_pipeline_tests.deploy.services import kill_tree, wait_until
from kroton_pipeline_tests.deploy.stack import (
    Deployment,
    SandboxProcess,
    Stack,
    past_import_dates,
)

# Beside the other tests, the two deployment tests one after the other on one worker: each
# starts the processes of deploy/ on fixed ports (in network namespaces when there are).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.topology,
    pytest.mark.slow,
    pytest.mark.xdist_group("deploy"),
]

ALL_JOBS_ASSETS = ["subscriptions", "subscription_genders", "course_matches", "registrations"]
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")
RANGE = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def wait_for_run(
    api: DagsterGraphQL, run_id: str, statuses: tuple[str, ...], timeout: float
) -> Run:
    return wait_until(  # type: ignore[return-value]
        lambda: (run := api.run(run_id)).status in statuses and run, timeout, f"run {run_id}"
    )


def sensor_requests_a_run_per_export(api: DagsterGraphQL) -> list[Run]:
    """The landing sensor's runs; the sensor is then stopped (the next exports are for a
    backfill), as an operator would from the UI."""
    runs = wait_until(lambda: len(rs := api.runs("all_jobs")) >= 2 and rs, 120, "sensor runs")
    assert api.stop_sensor("landing_sensor") == "STOPPED"
    return runs  # type: ignore[return-value]


def one_runs_while_the_other_waits(
    api: DagsterGraphQL, runs: list[Run]
) -> tuple[Run, Run, set[tuple[str, ...]]]:
    """The run that finished first, the other, and the pairs of statuses seen meanwhile."""
    seen: set[tuple[str, ...]] = set()

    def one_finished() -> list[Run] | None:
        pair = [api.run(run.run_id) for run in runs]
        seen.add(tuple(sorted(run.status for run in pair)))
        return pair if any(run.status in FINISHED for run in pair) else None

    pair = wait_until(one_finished, 180, "the first sensor run to finish")
    first, second = sorted(pair, key=lambda run: run.status not in FINISHED)  # type: ignore[arg-type]
    assert first.status == "SUCCESS", first
    return first, second, seen


def daemon_crash_is_settled(
    deployment: Deployment, sandbox: SandboxProcess, run: Run
) -> tuple[Run, str]:
    """SIGKILL the daemon, then the run's processes, mid-registration; restart the daemon.
    Returns the retry and the reason the failed run was given."""
    api, posted = deployment.api, len(sandbox.registrations())
    wait_until(lambda: len(sandbox.registrations()) >= posted + 3, 120, "the run to POST leads")
    deployment.daemon.kill()
    at_kill = len(sandbox.registrations())
    # The run's worker belongs to the code server, not to the daemon: it keeps registering.
    wait_until(lambda: len(sandbox.registrations()) >= at_kill + 2, 60, "POSTs without a daemon")
    worker = api.worker_pid(run.run_id)
    assert worker is not None
    assert worker not in {service.pid for service in deployment.services}
    kill_tree(worker)
    failed = wait_for_run(api, run.run_id, FINISHED, 60)
    assert failed.status == "FAILURE"
    messages = api.messages(run.run_id)
    reasons = [m for m in messages if "Run execution process" in m]
    assert reasons, f"the failed run says nothing of why: {messages[-5:]}"

    sandbox.clear_faults()
    deployment.daemon.start()
    retry = wait_until(
        lambda: next((r for r in api.runs("all_jobs") if r.parent == run.run_id), None),
        120,
        "the retry of the killed run",
    )
    retry = wait_for_run(api, retry.run_id, FINISHED, 180)  # type: ignore[union-attr]
    assert retry.status == "SUCCESS", retry
    assert retry.tags["dagster/retry_number"] == "1"
    return retry, reasons[0]


def backfill_completes(api: DagsterGraphQL, backfill_id: str, days: list[str]) -> Run:
    """The backfill's one run over the range, once the backfill completed."""
    done = wait_until(
        lambda: (b := api.backfill(backfill_id))["status"] != "REQUESTED" and b, 240, "backfill"
    )
    assert done["status"] == "COMPLETED_SUCCESS", done  # type: ignore[index]
    (run,) = done["runs"]  # type: ignore[index]
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert (tags[RANGE[0]], tags[RANGE[1]]) == (days[0], days[-1])
    return api.run(run["runId"])


def test_the_production_topology_queues_backfills_and_survives_a_daemon_crash(stack: Stack) -> None:
    started = time.monotonic()
    days = past_import_dates(4)
    for day in days[:2]:
        stack.land_export(day, size=20)
    sandbox = stack.start_sandbox()
    deployment = stack.start_deployment(sandbox)
    api = deployment.api
    print(f"{time.monotonic() - started:.0f} s: deployed")

    runs = sensor_requests_a_run_per_export(api)
    partitions = sorted(run.tags["dagster/partition"] for run in runs)
    assert partitions == [d.isoformat() for d in days[:2]]
    for day in days[2:]:
        stack.land_export(day, size=20)
    backfill_id = api.launch_backfill(ALL_JOBS_ASSETS, [d.isoformat() for d in days[2:]])

    first, second, seen = one_runs_while_the_other_waits(api, runs)
    print(f"{time.monotonic() - started:.0f} s: first sensor run done")
    # Both need kroton_api: while one ran, the other waited in the queue.
    assert ("QUEUED", "STARTED") in seen, seen

    # Slow registrations down so the crash lands in the middle of them.
    sandbox.set_faults("register", latency=0.4)
    retry, reason = daemon_crash_is_settled(deployment, sandbox, second)
    assert "terminated by signal 9" in reason, reason
    print(f"{time.monotonic() - started:.0f} s: retry done")

    backfill = backfill_completes(api, backfill_id, [d.isoformat() for d in days[2:]])
    runs = [api.run(r.run_id) for r in (first, second, retry, backfill)]
    print(f"{time.monotonic() - started:.0f} s: backfill done")
    for run in runs:
        print(f"  {run.run_id[:8]} {run.job} {run.status} {run.start}-{run.end} {run.tags}")

    # Every run in a process of its own, none of them a long-running service.
    workers = [api.worker_pid(run.run_id) for run in runs]
    assert len(set(workers)) == 4 and None not in workers
    assert not set(workers) & {service.pid for service in stack.services}
    # One at a time: every run needs kroton_api (pool limit 1, run granularity).
    spans = sorted((run.start or 0, run.end or 0) for run in runs)
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))

    # The judge: the sandbox's journal. Every POST was stored (200) as an inscription of
    # its own CPF: no lead was registered twice, by the crash or by the retry.
    posts = sandbox.registrations()
    assert posts and {post["status"] for post in posts} == {200}
    ours = [i["cpf"] for i in sandbox.inscriptions() if i["origin"] == "registered"]
    assert len(ours) == len(set(ours)) == len(posts)
    # Every lead was registered, except the one the killed worker may have been posting: its
    # claim belongs to the dead run and lasts KROTON_CLAIM_TTL_SECONDS (600 s), after which
    # the next run reconciles it. Nothing else holds a lead back.
    engine = make_engine(stack.pipeline_db_url)
    try:
        with engine.connect() as conn:
            waiting = conn.execute(
                select(Subscription.cpf, Subscription.claimed_by).where(
                    Subscription.status == "to_register"
                )
            ).all()
    finally:
        engine.dispose()
    assert len(waiting) <= 1, waiting
    for _cpf, claimed_by in waiting:
        assert (claimed_by or "").startswith(second.run_id[:48]), claimed_by
    print(f"topology test: {time.monotonic() - started:.0f} s, {len(posts)} registrations")
