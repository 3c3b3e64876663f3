"""End to end: one import partition of 1,000 leads through every asset, on the sandbox.

Ours: the Dagster definitions (``kroton_pipeline.definitions.defs()``) with ``KROTON_ENV``
set to an in-process sandbox whose limit is out of the way and a temporary SQLite database:
``all_jobs`` for the date, then ``register`` after the sandbox clock moved 15 minutes (the
pending inscriptions are polled), then ``checker`` three days later. Baseline: the same
step functions called directly, without Dagster, on a fresh database and sandbox — the
difference is what Dagster's run machinery costs.

Time spent waiting on HTTP is measured by wrapping ``httpx.Client.send`` (every client
request goes through it; the sandbox answers from a thread of this process, so its work is
inside that time, as Kroton's would be). Time drawing from the database-backed budget is
measured by wrapping the budget's ``acquire``. Our own time = wall - HTTP.

``python -m benchmarks.end_to_end``
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import Figure, cached_export, export_file, print_report, ratio

LEADS = 1000
EXPORT_SEED = 11
SANDBOX_SEED = 7
UNLIMITED = {"rate_limit": 1_000_000, "rate_window": 1.0}
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@contextmanager
def _timing(owner: type, method: str) -> Iterator[dict[str, float]]:
    """Sum the seconds spent in ``owner.method`` (and count the calls) while inside."""
    original = getattr(owner, method)
    box = {"seconds": 0.0, "calls": 0}

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            box["seconds"] += time.perf_counter() - started
            box["calls"] += 1

    setattr(owner, method, timed)
    try:
        yield box
    finally:
        setattr(owner, method, original)


def _environment(workdir: Path, port: int) -> dict[str, str]:
    return {
        "KROTON_ENV": "sandbox",
        "KROTON_SANDBOX_PORT": str(port),
        "KROTON_DATABASE_URL": f"sqlite:///{workdir / 'e2e.db'}",
        "KROTON_LANDING_URL": str(workdir / "landing"),
        "KROTON_RATE_LIMIT": str(UNLIMITED["rate_limit"]),
        "KROTON_RATE_WINDOW_SECONDS": str(UNLIMITED["rate_window"]),
        "CATALOG_RATE_LIMIT": str(UNLIMITED["rate_limit"]),
        "CATALOG_RATE_WINDOW_SECONDS": str(UNLIMITED["rate_window"]),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
    }


def _through_dagster(workdir: Path, sb: Any, today: Any) -> dict[str, float]:
    import dagster as dg

    saved = dict(os.environ)
    os.environ.update(_environment(workdir, sb.port))
    (workdir / "dagster_home").mkdir()
    (workdir / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    try:
        from kroton_pipeline.definitions import defs

        definitions = defs()
        instance = dg.DagsterInstance.ephemeral()
        partition = today.isoformat()

        def run(job: str, config: dict[str, Any] | None = None) -> None:
            result = definitions.resolve_job_def(job).execute_in_process(
                partition_key=partition,
                instance=instance,
                run_config={**QUIET, **(config or {})},
                raise_on_error=False,
            )
            if not result.success:
                raise RuntimeError(f"end_to_end: job {job} failed")

        run("all_jobs")
        sb.advance(15 * 60)
        run("register", {"ops": {"registrations": {"config": {"poll_after_minutes": 0}}}})
        sb.advance(3 * 24 * 3600)
        run("checker", {"ops": {"follow_up_snapshots": {"config": {"ignore_schedule": True}}}})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {}


def _direct(workdir: Path, sb: Any, today: Any) -> dict[str, float]:
    from benchmarks.harness import sandbox_clients
    from kroton_pipeline.data.names import load_names
    from kroton_pipeline.db.engine import make_engine, upgrade
    from kroton_pipeline.settings import BusinessRules, utcnow
    from kroton_pipeline.steps.check_follow_ups import check_follow_ups
    from kroton_pipeline.steps.fill_genders import fill_genders
    from kroton_pipeline.steps.import_leads import import_export
    from kroton_pipeline.steps.match_courses import match_courses
    from kroton_pipeline.steps.register_leads import register_leads

    url = f"sqlite:///{workdir / 'direct.db'}"
    upgrade(url)
    engine = make_engine(url)
    kroton, catalog = sandbox_clients(sb, budget_url=url, limit=UNLIMITED["rate_limit"])
    rules = BusinessRules()
    path = workdir / "landing" / f"leads_{today.isoformat()}.csv"
    load_names(engine)
    import_export(engine, export_file(path, today), rules, None)
    fill_genders(engine, today, rules.gender_min_ratio, None, utcnow())
    match_courses(engine, catalog, today, today, None)
    register_leads(engine, kroton, today, rules, None)
    sb.advance(15 * 60)
    register_leads(engine, kroton, today, rules, None, poll_after=timedelta(0))
    sb.advance(3 * 24 * 3600)
    check_follow_ups(engine, kroton, today, None, ignore_schedule=True)
    kroton.close()
    catalog.close()
    engine.dispose()
    return {}


def _measure(flow: Any, today: Any) -> dict[str, float]:
    import shutil

    import httpx

    from kroton_pipeline.clients.transport import _BudgetBase
    from kroton_pipeline.sandbox import SandboxServer

    source = cached_export(today, LEADS, EXPORT_SEED)
    with tempfile.TemporaryDirectory(prefix="kroton_e2e_") as scratch:
        workdir = Path(scratch)
        (workdir / "landing").mkdir()
        shutil.copy(source, workdir / "landing" / source.name)
        with SandboxServer(port=0, seed=SANDBOX_SEED, **UNLIMITED) as sb:
            with _timing(httpx.Client, "send") as http, _timing(_BudgetBase, "acquire") as budget:
                started = time.perf_counter()
                flow(workdir, sb, today)
                wall = time.perf_counter() - started
            requests = len(sb.journal())
    own = wall - http["seconds"]
    return {
        "wall": wall,
        "http": http["seconds"],
        "budget": budget["seconds"],
        "requests": requests,
        "own": own,
        "own_per_lead_ms": 1000 * own / LEADS,
    }


def run() -> list[Figure]:
    """Dagster and direct runs of the same partition; return the table rows."""
    from kroton_pipeline.settings import today_in_sao_paulo

    today = today_in_sao_paulo()
    ours = _measure(_through_dagster, today)
    base = _measure(_direct, today)
    for label, m in (("dagster", ours), ("direct steps", base)):
        print(
            f"end_to_end[{label}]: wall {m['wall']:.1f} s, {m['requests']} HTTP requests taking "
            f"{m['http']:.1f} s, budget draws {m['budget']:.1f} s, own code "
            f"{m['own']:.1f} s ({m['own_per_lead_ms']:.1f} ms per lead)"
        )
    name = "4 end to end (1,000 leads)"
    return [
        Figure(
            name,
            "wall: all_jobs + register(poll) + checker",
            f"{ours['wall']:.1f} s",
            f"{base['wall']:.1f} s (steps, no Dagster)",
            ratio(ours["wall"], base["wall"]),
        ),
        Figure(
            name,
            "own code per lead (wall - HTTP wait)",
            f"{ours['own_per_lead_ms']:.1f} ms",
            f"{base['own_per_lead_ms']:.1f} ms",
            ratio(ours["own"], base["own"]),
        ),
        Figure(
            name,
            "  of which budget draws (DB transaction per request)",
            f"{1000 * ours['budget'] / LEADS:.1f} ms",
            f"{1000 * base['budget'] / LEADS:.1f} ms",
        ),
        Figure(
            name,
            "HTTP wait per lead (sandbox, in-process)",
            f"{1000 * ours['http'] / LEADS:.1f} ms",
            f"{1000 * base['http'] / LEADS:.1f} ms",
        ),
    ]


def main() -> int:
    started = time.perf_counter()
    figures = run()
    print_report("End to end", figures, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
