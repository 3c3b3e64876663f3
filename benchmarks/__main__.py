"""Run every benchmark and print one table: ``python -m benchmarks`` (``make bench``).

Each module also runs alone: ``python -m benchmarks.api_economy``, ``.rate_limit_use``,
``.import_throughput``, ``.end_to_end``. PostgreSQL cases run when 127.0.0.1:5432 answers
(``KROTON_BENCH_PG_URL`` to point elsewhere); the whole suite takes about 5 minutes on a
2-core machine.
"""

from __future__ import annotations

import time

from benchmarks import api_economy, end_to_end, import_throughput, rate_limit_use
from benchmarks.harness import Figure, print_report


def main() -> int:
    started = time.perf_counter()
    figures: list[Figure] = []
    for module in (api_economy, rate_limit_use, import_throughput, end_to_end):
        section = time.perf_counter()
        name = module.__name__.rsplit(".", 1)[-1]
        try:
            figures += module.run()
        except Exception as exc:  # one broken benchmark (e.g. PostgreSQL gone) keeps the rest
            figures.append(Figure(name, "did not finish", f"{type(exc).__name__}", verdict="ERROR"))
        print(f"  ({name}: {time.perf_counter() - section:.0f} s)")
    print_report("kroton-pipeline benchmarks", figures, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
