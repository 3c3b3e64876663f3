"""End-to-end demo on the sandbox: ``python -m kroton_pipeline.demo`` (``make demo``).

Starts the Kroton simulator, writes two days of generated Databricks exports to a landing
folder, lets the landing sensor request the runs, runs ``all_jobs`` for each import date
through Dagster, moves the sandbox clock forward so that pending inscriptions resolve and
classifications move on, runs ``register`` and the ``checker``, and prints the funnel.

Everything lands in ``./demo`` (SQLite database, landing folder, Dagster instance). The
funnel report is materialized and the instance is made ready for the UI
(:mod:`kroton_pipeline.demo_ui`); ``--ui`` (``make ui``) then opens it with the sandbox
still serving.
This module is the only one that brings product code and the sandbox together.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from sqlalchemy import func, select

from kroton_pipeline.defs.common.resources import DatabaseResource, LandingResource
from kroton_pipeline.demo_ui import prepare_instance, run_ui, write_instance_yaml
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.settings import load_api_format

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _configure_environment(
    workdir: Path, sandbox: SandboxServer, window: float, first_date: date
) -> None:
    os.environ.update(
        {
            "KROTON_ENV": "sandbox",
            # Partitions start at the demo's first import date: the UI lists only its dates.
            "KROTON_FIRST_IMPORT_DATE": first_date.isoformat(),
            "KROTON_SANDBOX_PORT": str(sandbox.port),
            "KROTON_DATABASE_URL": f"sqlite:///{workdir / 'kroton_pipeline.db'}",
            "KROTON_LANDING_URL": str(workdir / "landing"),
            "KROTON_RATE_WINDOW_SECONDS": str(window),
            "CATALOG_RATE_WINDOW_SECONDS": str(window),
            "DAGSTER_HOME": str(workdir / "dagster_home"),
        }
    )
    write_instance_yaml(workdir / "dagster_home")


def _run(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    partition: str | None,
    run_config: dict | None = None,
    **kw,
) -> None:
    result = job.execute_in_process(
        partition_key=partition,
        instance=instance,
        run_config={**QUIET, **(run_config or {})},
        raise_on_error=False,
        **kw,
    )
    state = "ok" if result.success else "FAILED"
    print(f"  {job.name:<12} {partition or '':<10}  run {result.run_id[:8]}  {state}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=150, help="leads per import date")
    parser.add_argument("--days", type=int, default=2, help="import dates to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rate-window",
        type=float,
        default=3.0,
        help="seconds per 100 requests (Kroton's real window is 300; scaled so the demo is quick)",
    )
    parser.add_argument("--workdir", type=Path, default=Path("demo"))
    parser.add_argument(
        "--ui", action="store_true", help="then open the Dagster UI on it (Ctrl-C stops)"
    )
    parser.add_argument("--port", type=int, default=3000, help="the UI's port (with --ui)")
    args = parser.parse_args(argv)

    workdir = args.workdir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    started = time.monotonic()
    from kroton_pipeline.settings import today_in_sao_paulo

    today = today_in_sao_paulo()
    dates = [today - timedelta(days=offset) for offset in range(args.days - 1, -1, -1)]
    dialect = load_api_format().dialect  # KROTON_API_DIALECT: the sandbox speaks it too
    with SandboxServer(
        port=0, seed=args.seed, rate_limit=100, rate_window=args.rate_window, dialect=dialect
    ) as sb:
        _configure_environment(workdir, sb, args.rate_window, dates[0])
        # Imported after the environment is set: definitions read it when they load.
        from kroton_pipeline.definitions import defs

        definitions = defs()
        instance = dg.DagsterInstance.get()
        print(
            f"sandbox at {sb.base_url} ({dialect} dialect); "
            f"budget 100 requests per {args.rate_window:g} s"
        )
        for number, day in enumerate(dates):
            frame = generate_export(day, args.leads, seed=args.seed + number)
            path = write_export(frame, workdir / "landing", day)
            print(f"export {path.name}: {len(frame)} rows")

        print("landing sensor:")
        sensor = definitions.resolve_sensor_def("landing_sensor")
        resources = {
            "landing": LandingResource(url=os.environ["KROTON_LANDING_URL"]),
            "database": DatabaseResource(url=os.environ["KROTON_DATABASE_URL"]),
        }
        evaluation = None
        for _ in range(2):  # an export without a marker is complete once stable for two ticks
            cursor = evaluation.cursor if evaluation else None
            with dg.build_sensor_context(
                instance=instance, resources=resources, cursor=cursor
            ) as context:
                evaluation = sensor(context)
        assert isinstance(evaluation, dg.SensorResult)
        requests = evaluation.run_requests or []
        all_jobs = definitions.resolve_job_def("all_jobs")
        for request in requests:
            _run(all_jobs, instance, request.partition_key, tags=request.tags)

        print("Kroton processes the pending inscriptions (sandbox clock +15 min):")
        sb.advance(15 * 60)
        register = definitions.resolve_job_def("register")
        poll_now = {"ops": {"registrations": {"config": {"poll_after_minutes": 0}}}}
        for day in dates:
            _run(register, instance, day.isoformat(), run_config=poll_now)

        print("days pass; the daily checker follows the tracked leads (sandbox clock +3 days):")
        sb.advance(3 * 24 * 3600)
        checker = definitions.resolve_job_def("checker")
        # The follow-up schedule would first look at today's registrations tomorrow.
        check_all = {"ops": {"follow_up_snapshots": {"config": {"ignore_schedule": True}}}}
        _run(checker, instance, today.isoformat(), run_config=check_all)

        print("the funnel report:")
        _run(definitions.resolve_job_def("refresh_funnel_report"), instance, None)
        prepare_instance(instance, workdir / "dagster_home", evaluation.cursor)
        _print_funnel(os.environ["KROTON_DATABASE_URL"], sb.journal(), len(dates) * args.leads)
        print(
            f"\ndone in {time.monotonic() - started:.0f} s. "
            f"Database: {workdir / 'kroton_pipeline.db'}"
        )
        if args.ui:
            return run_ui(args.port)
    print(
        "Open these runs in the Dagster UI (runs the demo again, keeps its sandbox "
        "serving, then starts the UI):\n  make ui"
    )
    return 0


def _print_funnel(database_url: str, journal: list[dict], rows: int) -> None:
    from kroton_pipeline.db.engine import make_engine
    from kroton_pipeline.db.models import LeadRejection, Subscription
    from kroton_pipeline.domain.statuses import Status

    engine = make_engine(database_url)
    with engine.connect() as conn:
        per_day = conn.execute(
            select(Subscription.import_date, Subscription.status, func.count())
            .group_by(Subscription.import_date, Subscription.status)
            .order_by(Subscription.import_date)
        ).all()
        rejections = conn.execute(
            select(LeadRejection.reason, func.count()).group_by(LeadRejection.reason)
        ).all()
    days = sorted({day for day, _, _ in per_day})
    counts = {(day, status): count for day, status, count in per_day}
    statuses = [status.value for status in Status]
    print("\nFunnel (subscriptions per status and import date)")
    header = f"{'status':<18}" + "".join(f"{day.isoformat():>12}" for day in days) + f"{'total':>8}"
    print(header)
    print("-" * len(header))
    for status in statuses:
        values = [counts.get((day, status), 0) for day in days]
        print(f"{status:<18}" + "".join(f"{v:>12}" for v in values) + f"{sum(values):>8}")
    total_rejected = sum(count for _, count in rejections)
    print(f"{'(rejected rows)':<18}{'':>{12 * len(days)}}{total_rejected:>8}")
    for reason, count in sorted(rejections, key=lambda item: -item[1]):
        print(f"    {reason:<26}{count:>6}")
    calls = Counter(entry.get("system") for entry in journal)
    posts = sum(
        1 for entry in journal if entry["method"] == "POST" and "inscricao" in entry["path"]
    )
    print(
        f"\n{rows} exported rows; sandbox saw {calls.get('kroton', 0)} Kroton calls "
        f"({posts} registrations), {calls.get('catalog', 0)} catalog searches, "
        f"{sum(1 for entry in journal if entry['status'] == 429)} answers 429"
    )


if __name__ == "__main__":
    raise SystemExit(main())
