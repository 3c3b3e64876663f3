"""Rate-limit use: two OS processes share one scaled Kroton budget through the database.

The sandbox allows ``LIMIT`` requests per ``WINDOW`` seconds (Kroton: 100 per 300 s, scaled
down so that five windows take 50 s). Two worker processes each run the product's
``KrotonClient`` with the product's ``DatabaseRateBudget`` (same limit and window, the
product's default safety margin) on one shared database, and send CPF look-ups as fast as
the budget lets them. From the sandbox journal:

- *use over K windows*: requests that arrived in ``[first, first + K·WINDOW)`` divided by
  ``K·LIMIT`` (what a perfect client could send in that span);
- *sustained use*: ``WINDOW`` divided by the median time between request ``i`` and request
  ``i + LIMIT`` — the long-run share of the budget, which over only five windows the first
  figure cannot show (a sliding window lets each window start with a burst);
- the number of 429 answers.

The baseline is the sandbox's own limit: a perfect client sends exactly LIMIT per WINDOW.

``python -m benchmarks.rate_limit_use [--backends sqlite,postgres]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from typing import Any

from benchmarks.harness import (
    Figure,
    met,
    postgres_available,
    postgres_database,
    print_report,
    sqlite_database,
)

LIMIT = 100
WINDOW = 10.0
WINDOWS = 5
WORKERS = 2
# Synthetic CPF with valid check digits that no lead has (the product's health-check CPF).
PROBE_CPF = "00000000191"


def worker(db_url: str, kroton_url: str, start: float, until: float) -> dict[str, Any]:
    """One process: look the probe CPF up until ``until``, drawing from the shared budget."""
    from kroton_pipeline.clients import KrotonClient
    from kroton_pipeline.clients.transport import DatabaseRateBudget

    budget = DatabaseRateBudget(db_url, "kroton", LIMIT, WINDOW)
    client = KrotonClient(
        base_url=kroton_url,
        client_id="sandbox-client",
        client_secret="sandbox-secret",
        subscription_key="sandbox-subscription",
        budget=budget,
    )
    time.sleep(max(0.0, start - time.time()))
    sent = 0
    while time.time() < until:
        client.inscriptions_by_cpf(PROBE_CPF)
        sent += 1
    client.close()
    counters = client.counters
    return {
        "sent": sent,
        "budget_waits": counters.budget_waits,
        "budget_wait_seconds": counters.budget_wait_seconds,
        "rate_limited": counters.rate_limited,
        "effective_window": budget.effective_window,
    }


def _measure(journal: list[dict[str, Any]]) -> dict[str, float]:
    times = sorted(e["time"] for e in journal if e["system"] == "kroton")
    answered = sorted(e["time"] for e in journal if e["system"] == "kroton" and e["status"] != 429)
    first = times[0]
    in_span = sum(1 for t in answered if t < first + WINDOWS * WINDOW)
    gaps = [answered[i + LIMIT] - answered[i] for i in range(len(answered) - LIMIT)]
    return {
        "requests": len(times),
        "in_span": in_span,
        "use": in_span / (WINDOWS * LIMIT),
        "period": statistics.median(gaps),
        "sustained": WINDOW / statistics.median(gaps),
        "rejected": sum(1 for e in journal if e["system"] == "kroton" and e["status"] == 429),
    }


def run_backend(backend: str) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Two workers on a fresh database of ``backend`` against a sandbox limited like Kroton."""
    from kroton_pipeline.sandbox import SandboxServer

    with ExitStack() as stack:
        url = stack.enter_context(sqlite_database() if backend == "sqlite" else postgres_database())
        sb = stack.enter_context(
            SandboxServer(port=0, seed=7, rate_limit=LIMIT, rate_window=WINDOW, token_ttl=3600)
        )
        start = time.time() + 4.0  # both workers import and connect before this
        until = start + WINDOWS * WINDOW + 1.0
        args = [sys.executable, "-m", "benchmarks.rate_limit_use", "--worker", url, sb.kroton_url]
        procs = [
            subprocess.Popen([*args, str(start), str(until)], stdout=subprocess.PIPE, text=True)
            for _ in range(WORKERS)
        ]
        outputs = [proc.communicate()[0] for proc in procs]
        if any(proc.returncode for proc in procs):
            raise RuntimeError(f"rate_limit_use[{backend}]: a worker process failed")
        reports = [json.loads(output.strip().splitlines()[-1]) for output in outputs]
        return _measure(sb.journal()), reports


def run(backends: list[str] | None = None) -> list[Figure]:
    """Run each backend (PostgreSQL only when reachable); return the table rows."""
    backends = backends or ["sqlite", *(["postgres"] if postgres_available() else [])]
    figures: list[Figure] = []
    for backend in backends:
        measured, reports = run_backend(backend)
        margin = reports[0]["effective_window"] - WINDOW
        print(
            f"rate_limit_use[{backend}]: {measured['requests']} Kroton requests from "
            f"{WORKERS} processes, sent per worker {[r['sent'] for r in reports]}, "
            f"budget waits {[r['budget_waits'] for r in reports]}; one budget window every "
            f"{measured['period']:.2f} s (window {WINDOW:g} s + safety margin {margin:g} s "
            f"+ wake-up)"
        )
        name = f"2 rate-limit use ({backend})"
        figures += [
            Figure(
                name,
                f"sent / budget over {WINDOWS} windows of {LIMIT}/{WINDOW:g} s, {WORKERS} procs",
                f"{measured['use']:.3f}",
                "1.000",
                "",
                "≥ 0.95",
                met(measured["use"] >= 0.95),
            ),
            Figure(
                name,
                f"sustained use (window / period of {LIMIT} requests)",
                f"{measured['sustained']:.3f}",
                "1.000",
                "",
                "≥ 0.95",
                met(measured["sustained"] >= 0.95),
            ),
            Figure(
                name,
                "429 answers",
                str(int(measured["rejected"])),
                "",
                "",
                "0",
                met(measured["rejected"] == 0),
            ),
        ]
    return figures


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        db_url, kroton_url, start, until = argv[1], argv[2], float(argv[3]), float(argv[4])
        print(json.dumps(worker(db_url, kroton_url, start, until)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", help="comma-separated: sqlite,postgres (default: both)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures = run(args.backends.split(",") if args.backends else None)
    print_report("Rate-limit use", figures, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
