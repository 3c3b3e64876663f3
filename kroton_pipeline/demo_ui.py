"""The demo's Dagster instance made ready for the UI, and ``make ui`` itself.

After ``python -m kroton_pipeline.demo`` the instance in ``demo/dagster_home`` holds the
demo's runs. For the UI to open on it ready to use, and launch nothing on its own:

- its ``dagster.yaml`` is the repository's (run queue, concurrency pools, pipeline logs);
- each pool has its limit set explicitly (a new instance would otherwise treat a pool as
  unlimited during its first queue pass: see docs/operations.md, Deploy);
- Dagster's first-run "join the community" pop-up is marked as seen, the way the UI itself
  records a dismissal: the file ``$DAGSTER_HOME/.nux/nux.yaml``;
- the landing sensor's cursor is saved, so its first tick does not request the demo's
  dates again.

``python -m kroton_pipeline.demo --ui`` (``make ui``) runs the demo, prepares the instance and
then runs ``dg dev`` on it with the demo's sandbox still serving, until Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parents[1]
POOL_LIMITS = {"kroton_api": 1, "catalog_api": 1}
LOCATION_NAME = "kroton_pipeline"  # workspace.yaml and [tool.dg.project] both use it
# Used when the package runs outside a checkout (no repository dagster.yaml beside it).
FALLBACK_INSTANCE_YAML = """\
concurrency:
  runs:
    max_concurrent_runs: 4
  pools:
    granularity: run
    default_limit: 1
telemetry:
  enabled: false
python_logs:
  managed_python_loggers:
    - kroton_pipeline
  python_log_level: INFO
"""


def write_instance_yaml(dagster_home: Path) -> None:
    """The repository's instance settings (dagster.yaml) in ``dagster_home``."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    source = ROOT / "dagster.yaml"
    target = dagster_home / "dagster.yaml"
    if source.exists():
        shutil.copyfile(source, target)
    else:
        target.write_text(FALLBACK_INSTANCE_YAML)


def mark_first_run_popup_seen(dagster_home: Path) -> None:
    """What the UI writes when someone dismisses its first-run pop-up (Dagster 1.13)."""
    nux = dagster_home / ".nux"
    nux.mkdir(parents=True, exist_ok=True)
    (nux / "nux.yaml").write_text("seen: 1\n")


def set_pool_limits(instance: dg.DagsterInstance) -> None:
    """``dagster instance concurrency set <pool> 1`` for every pool the assets use."""
    for pool, limit in POOL_LIMITS.items():
        instance.event_log_storage.set_concurrency_slots(pool, limit)


def save_sensor_cursor(instance: dg.DagsterInstance, sensor_name: str, cursor: str) -> None:
    """Store ``cursor`` as the sensor's cursor in ``instance``, as ``dagster sensor cursor
    --set`` does, but keeping the sensor's status as declared in code (running).

    The state is found by the sensor's selector (location, repository, sensor name), so it
    holds for ``dg dev`` and for the webserver/daemon started with workspace.yaml alike.
    """
    # Dagster has no public call for this outside its CLI and GraphQL; these are the
    # objects the CLI uses.
    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.scheduler.instigation import (
        InstigatorState,
        InstigatorStatus,
        SensorInstigatorData,
    )
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    target = WorkspaceFileTarget([str(ROOT / "workspace.yaml")])
    with WorkspaceProcessContext(instance, target, code_server_log_level="WARNING") as process:
        location = process.create_request_context().get_code_location(LOCATION_NAME)
        [repository] = location.get_repositories().values()
        sensor = repository.get_sensor(sensor_name)
        data = SensorInstigatorData(
            min_interval=sensor.min_interval_seconds,
            cursor=cursor,
            sensor_type=sensor.sensor_type,
        )
        state = instance.get_instigator_state(sensor.get_remote_origin_id(), sensor.selector_id)
        if state is None:
            instance.add_instigator_state(
                InstigatorState(
                    sensor.get_remote_origin(),
                    InstigatorType.SENSOR,
                    InstigatorStatus.DECLARED_IN_CODE,
                    data,
                )
            )
        else:
            instance.update_instigator_state(state.with_data(data))


def prepare_instance(
    instance: dg.DagsterInstance, dagster_home: Path, landing_cursor: str | None
) -> None:
    """Everything above, on the demo's instance."""
    write_instance_yaml(dagster_home)
    mark_first_run_popup_seen(dagster_home)
    set_pool_limits(instance)
    if landing_cursor is not None:
        save_sensor_cursor(instance, "landing_sensor", landing_cursor)


def ui_environment(port: int | None = None) -> dict[str, str]:
    """This process's environment (the demo's settings) for ``dg dev``.

    ``VIRTUAL_ENV`` names the project's .venv, as an activated venv would: without it
    ``dg`` warns that the active virtual environment does not match the project's.
    """
    env = {**os.environ, "VIRTUAL_ENV": str(Path(sys.executable).resolve().parents[1])}
    if port is not None:
        env["DAGSTER_WEBSERVER_URL"] = f"http://127.0.0.1:{port}"
    return env


def run_ui(port: int) -> int:
    """``dg dev`` on the demo's instance until it stops (Ctrl-C)."""
    dg_cli = Path(sys.executable).with_name("dg")
    command = [str(dg_cli), "dev", "--port", str(port)]
    print(f"\nDagster UI: http://127.0.0.1:{port}  (Ctrl-C stops the UI and the sandbox)")
    process = subprocess.Popen(command, cwd=ROOT, env=ui_environment(port))
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            return 130


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def demo_ui_process(
    workdir: Path, log: Path, leads: int, days: int, settings: dict[str, str] | None = None
) -> Iterator[str]:
    """``python -m kroton_pipeline.demo --ui`` in ``workdir`` on a free port; its URL.

    The demo runs on a clean environment (no ``KROTON_*``/``DAGSTER_*`` of the caller, only
    ``settings``), in its own process group, its output in ``log``; leaving the block stops
    the group (the demo's sandbox, ``dg dev`` and its servers) as Ctrl-C would, then for
    good. The caller waits for the UI to answer.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KROTON_", "DAGSTER_"))}
    env |= settings or {}
    command = [sys.executable, "-m", "kroton_pipeline.demo", "--ui", "--port", str(port)]
    command += ["--workdir", str(workdir), "--leads", str(leads), "--days", str(days)]
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
