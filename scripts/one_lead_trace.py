"""Which product modules run for one lead, from the landing file to ``registered``.

``python scripts/one_lead_trace.py`` starts the sandbox, writes an export of one valid lead to
a temporary landing folder, and then, with a profiler recording every function called in
``kroton_pipeline``, runs what production runs for it: the landing sensor's tick, the
``all_jobs`` assets of its import date (without the asset checks), then ``register`` once
Kroton has processed the inscription. It prints each module whose code ran, grouped by
layer, and their number, then the modules the same runs execute to report on themselves
(metadata, checks, the budget forecast: ``RUN_REPORTING``); ``--json`` prints both lists.
The sandbox and the demo are left out (they stand in for Kroton and for the operator); so is
code that runs only while a module is imported (its ``<module>`` body), since the
definitions load imports every module, and what a deployment does once before the first
export (migrations, the IBGE names table).

docs/architecture.md ("One lead's path") shows the result; the test
``kroton_pipeline_tests/test_one_lead_trace.py`` keeps it within its bound.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import dagster as dg

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kroton_pipeline"
LEFT_OUT = ("sandbox/", "demo.py", "demo_ui.py")
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
STEPS = ["subscriptions", "subscription_genders", "course_matches", "registrations"]
# Modules the same runs execute to report on them, not to handle the lead: each asset's
# per-date metadata and progress lines, the registration checks, the budget forecast.
RUN_REPORTING = (
    "defs/common/metadata.py",
    "defs/registrations/checks.py",
    "domain/budget_plan.py",
    "steps/budget_demand.py",
    "reporting/",
)


@contextmanager
def recording(modules: set[str]) -> Iterator[None]:
    """Every product module whose functions are called while the block runs (all threads)."""
    prefix = str(PACKAGE) + os.sep

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        if code.co_filename.startswith(prefix) and code.co_name != "<module>":
            modules.add(os.path.relpath(code.co_filename, PACKAGE))

    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


def _one_valid_lead(day: Any) -> Any:
    from kroton_pipeline.sandbox.export_generator import generate_export

    frame = generate_export(day, 10, seed=11, bad_share=0.0)
    return frame.head(1)


def trace() -> list[str]:
    """The product modules one lead's path runs, sorted; the lead must end ``registered``."""
    from kroton_pipeline.sandbox import SandboxServer
    from kroton_pipeline.sandbox.export_generator import write_export

    with tempfile.TemporaryDirectory() as tmp, SandboxServer(port=0, seed=7) as sandbox:
        workdir = Path(tmp)
        os.environ.update(
            {
                "KROTON_ENV": "sandbox",
                "KROTON_SANDBOX_PORT": str(sandbox.port),
                "KROTON_DATABASE_URL": os.environ.get(
                    "KROTON_TRACE_DATABASE_URL", f"sqlite:///{workdir / 'kroton.db'}"
                ),
                "KROTON_LANDING_URL": str(workdir / "landing"),
                "DAGSTER_HOME": str(workdir / "dagster_home"),
                # As deployed: the deploy step migrates once (see _deploy), runs do not.
                "KROTON_MIGRATE_ON_RUN": "off",
            }
        )
        (workdir / "dagster_home").mkdir()
        from kroton_pipeline.definitions import defs
        from kroton_pipeline.settings import today_in_sao_paulo

        day = today_in_sao_paulo()
        os.environ["KROTON_FIRST_IMPORT_DATE"] = day.isoformat()
        definitions = defs()
        _deploy(os.environ["KROTON_DATABASE_URL"])
        sensor = definitions.resolve_sensor_def("landing_sensor")
        all_jobs = definitions.resolve_job_def("all_jobs")
        register = definitions.resolve_job_def("register")
        path = write_export(_one_valid_lead(day), workdir / "landing", day)
        path.with_name(path.name + ".done").touch()  # the writer says it is complete
        modules: set[str] = set()
        # The daemon gives a sensor the resources it asks for, and no others.
        resources = {key: definitions.resources[key] for key in sensor.required_resource_keys}
        poll_now = {"ops": {"registrations": {"config": {"poll_after_minutes": 0}}}}
        with (
            dg.instance_for_test(temp_dir=str(workdir / "dagster_home")) as instance,
            recording(modules),
        ):
            with dg.build_sensor_context(instance=instance, resources=resources) as context:
                requests = sensor(context).run_requests
            assert [r.partition_key for r in requests] == [day.isoformat()], requests
            _execute(all_jobs, instance, day.isoformat(), STEPS)
            sandbox.advance(15 * 60)  # Kroton processes the inscription
            _execute(register, instance, day.isoformat(), None, poll_now)
        _assert_registered(os.environ["KROTON_DATABASE_URL"])
    return sorted(m for m in modules if not m.startswith(LEFT_OUT))


def _execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    partition: str,
    selection: list[str] | None,
    run_config: dict | None = None,
) -> None:
    if selection is not None:
        selected = dg.AssetSelection.assets(*selection).without_checks()
        job = job.get_subset(asset_selection=selected.resolve(job.asset_layer.asset_graph))
    result = job.execute_in_process(
        partition_key=partition, instance=instance, run_config={**QUIET, **(run_config or {})}
    )
    assert result.success


def _deploy(database_url: str) -> None:
    """What a deployment has done before the first export lands: migrations, the names table."""
    from kroton_pipeline.data.names import load_names
    from kroton_pipeline.db.engine import make_engine, upgrade

    upgrade(database_url)
    engine = make_engine(database_url)
    load_names(engine)
    engine.dispose()


def _assert_registered(database_url: str) -> None:
    from sqlalchemy import select

    from kroton_pipeline.db.engine import make_engine
    from kroton_pipeline.db.models import Subscription

    engine = make_engine(database_url)
    with engine.connect() as conn:
        statuses = conn.execute(select(Subscription.status)).scalars().all()
    engine.dispose()
    assert statuses == ["registered"], statuses


def _layer(module: str) -> str:
    return module.split("/")[0] if "/" in module else "(top level)"


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the module list as JSON")
    args = parser.parse_args(argv)
    modules = trace()
    path = [m for m in modules if not m.startswith(RUN_REPORTING)]
    beside = [m for m in modules if m.startswith(RUN_REPORTING)]
    if args.json:
        out(json.dumps({"path": path, "run_reporting": beside}))
        return 0
    layers: dict[str, list[str]] = {}
    for module in path:
        layers.setdefault(_layer(module), []).append(module)
    for layer, names in layers.items():
        out(f"{layer} ({len(names)}): " + ", ".join(names))
    out(f"one lead, landing file -> registered: {len(path)} product modules")
    out(f"beside it, reporting on the runs: {len(beside)} (" + ", ".join(beside) + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
