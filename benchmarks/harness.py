"""What every benchmark shares: the machine header, the result table, scratch databases,
exports on disk and the product's clients pointed at an in-process sandbox.

Benchmarks print figures and never assert: the machine is shared and noisy, so the table
quotes ratios against a baseline measured in the same run.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get(
    "KROTON_BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
# Kroton's real budget: 100 requests per 5 minutes, around the clock.
KROTON_REQUESTS_PER_DAY = 100 * (24 * 3600 // 300)
CACHE_DIR = Path(tempfile.gettempdir()) / "kroton_benchmarks_cache"


@dataclass(frozen=True)
class Figure:
    """One row of the results table."""

    benchmark: str
    measure: str
    ours: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""  # "met", "MISSED" or "" (no target)


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def machine() -> str:
    """``nproc``, CPU model and Python version, for the table header."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}"


COLUMNS = ("benchmark", "measure", "ours", "baseline", "ratio", "target", "")


def table(figures: list[Figure]) -> str:
    """The figures as a Markdown table (readable in a terminal and pasteable into README)."""
    rows = [COLUMNS] + [
        (f.benchmark, f.measure, f.ours, f.baseline, f.ratio, f.target, f.verdict) for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]

    def line(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"

    return "\n".join(
        [line(rows[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        + [line(row) for row in rows[1:]]
    )


def print_report(title: str, figures: list[Figure], seconds: float) -> None:
    print(f"\n{title} — {machine()} — {seconds:.0f} s")
    print(table(figures))


def ratio(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.2f}×" if baseline else "n/a"


@contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    box = [0.0]
    started = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - started


# --- databases -----------------------------------------------------------------------------


@contextmanager
def sqlite_database(folder: Path | None = None, migrate: bool = True) -> Iterator[str]:
    """URL of a fresh (migrated) SQLite file, deleted afterwards."""
    from kroton_pipeline.db.engine import upgrade

    with tempfile.TemporaryDirectory(prefix="kroton_bench_", dir=folder) as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        if migrate:
            upgrade(url)
        yield url


def postgres_available() -> bool:
    engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


@contextmanager
def postgres_database(migrate: bool = True) -> Iterator[str]:
    """URL of a freshly created (migrated) PostgreSQL database, dropped afterwards."""
    from kroton_pipeline.db.engine import upgrade

    name = f"kroton_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- exports and clients -------------------------------------------------------------------


def export_file(path: Path, import_date: date):
    """The ``ExportFile`` the import step expects for a file written by ``write_export``."""
    from kroton_pipeline.landing import ExportFile

    return ExportFile(url=str(path), name=path.name, import_date=import_date, fmt="csv")


def cached_export(import_date: date, size: int, seed: int, distinct_searches: int = 40) -> Path:
    """A generated export on disk; generated once per (date, size, seed) and reused, because
    Faker needs ~0.3 ms per lead and generation is not what is being measured."""
    from kroton_pipeline.sandbox.export_generator import generate_export, write_export

    folder = CACHE_DIR / f"{import_date.isoformat()}_{size}_{seed}_{distinct_searches}"
    path = folder / f"leads_{import_date.isoformat()}.csv"
    if not path.exists():
        frame = generate_export(import_date, size, seed=seed, distinct_searches=distinct_searches)
        write_export(frame, folder, import_date)
    return path


def sandbox_clients(sandbox, budget_url: str | None = None, limit: int = 1_000_000):
    """The product's Kroton and catalog clients for ``sandbox`` (in its dialect), with a
    budget of ``limit`` per sandbox window (process-local unless ``budget_url`` names a
    database)."""
    from kroton_pipeline.clients import CatalogClient, KrotonClient
    from kroton_pipeline.clients.transport import make_budget
    from kroton_pipeline.settings import API_FORMATS

    window = sandbox.app.limiter.window
    kroton = KrotonClient(
        base_url=sandbox.kroton_url,
        api_format=API_FORMATS[sandbox.dialect],
        client_id="sandbox-client",
        client_secret="sandbox-secret",
        subscription_key="sandbox-subscription",
        budget=make_budget(budget_url, "kroton", limit, window),
    )
    catalog = CatalogClient(
        base_url=sandbox.catalog_url,
        api_key="sandbox-api-key",
        budget=make_budget(budget_url, "catalog", limit, window),
    )
    return kroton, catalog


def valid_cpfs(count: int, start: int) -> list[str]:
    """``count`` distinct valid CPFs (``ddd.ddd.ddd-dd``), their check digits computed."""
    import numpy as np

    base = np.arange(start, start + count, dtype=np.int64)
    digits = (base[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    first = (digits @ np.arange(10, 1, -1)) * 10 % 11 % 10
    with_first = np.column_stack([digits, first])
    second = (with_first @ np.arange(11, 1, -1)) * 10 % 11 % 10
    full = ["".join(map(str, row)) for row in np.column_stack([with_first, second]).tolist()]
    return [f"{c[:3]}.{c[3:6]}.{c[6:9]}-{c[9:]}" for c in full]


def scaled_export(base: Path, rows: int) -> Path:
    """``base`` repeated to ``rows`` rows, each copy with fresh CPFs; cached like
    :func:`cached_export` (written a copy at a time, so the parent stays small)."""
    import pandas as pd

    path = base.parent.parent / f"{base.parent.name}_x{rows}" / base.name
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(base, dtype=str, keep_default_na=False)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        for start in range(0, rows, len(frame)):
            copy = frame.iloc[: rows - start].copy()
            copy["cpf"] = valid_cpfs(len(copy), 100_000_000 + start)
            copy.to_csv(out, index=False, header=start == 0)
    partial.rename(path)
    return path


def peak_rss_mb() -> float:
    """This process's own peak resident set (``VmHWM``), in MB.

    Not ``os.wait4``'s ``ru_maxrss``: across fork + exec it keeps the forking parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
