"""Import throughput: 100,000 leads imported, validated and gender-filled, per database.

Ours: ``steps.import_leads.import_export`` + ``steps.fill_genders.fill_genders`` on a fresh,
migrated database with the IBGE ``names`` table loaded first (its load time is reported
apart). Baseline: the source service's per-row loop — per lead, validate with validate-docbr,
phonenumbers and email-validator, ``SELECT`` by CPF, ``INSERT``, commit; then per lead
without a gender, ``SELECT`` the name and ``UPDATE`` — run on a 5,000-row sample and
extrapolated linearly to 100,000 (it does a constant amount of work per row).

Then ours alone on a 1,000,000-row export (the 100,000-row one repeated with fresh CPFs):
wall and peak memory, which must stay bounded.

Each case runs in its own process (``--case``) and reports its own peak RSS: ``VmHWM`` from
``/proc/self/status`` at the end of the case (``os.wait4``'s ``ru_maxrss`` would keep the
forking parent's peak across fork + exec). The exports are generated once and cached
(generation is not what is measured).

``python -m benchmarks.import_throughput [--rows N] [--large-rows N] [--sample N]
[--backends sqlite,postgres]``
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    Figure,
    cached_export,
    export_file,
    met,
    peak_rss_mb,
    postgres_available,
    postgres_database,
    print_report,
    scaled_export,
    sqlite_database,
)

ROWS = 100_000
SAMPLE = 5_000
IMPORT_DATE = date(2026, 3, 2)
SEED = 5
LARGE_ROWS = 1_000_000
WALL_TARGET_SECONDS = 5.0
MEMORY_TARGET_MB = 600.0
LARGE_MEMORY_TARGET_MB = 1000.0
SPEEDUP_TARGET = 20.0


def _ours(url: str, path: Path) -> dict[str, Any]:
    from kroton_pipeline.db.engine import make_engine
    from kroton_pipeline.settings import BusinessRules, utcnow
    from kroton_pipeline.steps.fill_genders import fill_genders
    from kroton_pipeline.steps.import_leads import import_export

    engine = make_engine(url)
    rules = BusinessRules()
    started = time.perf_counter()
    imported = import_export(engine, export_file(path, IMPORT_DATE), rules, None)
    import_seconds = time.perf_counter() - started
    genders = fill_genders(engine, IMPORT_DATE, rules.gender_min_ratio, None, utcnow())
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": seconds,
        "import_seconds": import_seconds,
        "rows": imported.rows_in,
        "imported": imported.imported,
        "rejected": imported.rejected,
        "genders_filled": genders.from_subscriptions + genders.from_ibge,
    }


def _baseline(url: str, path: Path, sample: int) -> dict[str, Any]:
    """One statement (and one commit) per lead, with the per-row validation libraries."""
    import email_validator
    import phonenumbers
    from sqlalchemy import text
    from validate_docbr import CPF

    from kroton_pipeline.db.engine import make_engine
    from kroton_pipeline.domain.leads import first_name_key
    from kroton_pipeline.settings import utcnow

    engine = make_engine(url)
    cpf_check = CPF()
    insert = text(
        "INSERT INTO subscriptions (cpf, user_name, first_name, gender, birthday, email, "
        "area_code, phone_number, cep, street, number, city, uf, course_name, unit_id, "
        "course_type, modality, monthly_price, capture_period, system, campus, import_date, "
        "status, attempts, created_at, updated_at) VALUES (:cpf, :user_name, :first_name, "
        ":gender, :birthday, :email, :area_code, :phone_number, :cep, :street, :number, :city, "
        ":uf, :course_name, :unit_id, :course_type, :modality, :monthly_price, :capture_period, "
        ":system, :campus, :import_date, 'to_sync', 0, :now, :now)"
    )
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for _, row in zip(range(sample), csv.DictReader(handle), strict=False)]
    started = time.perf_counter()
    inserted, rejected = 0, 0
    for row in rows:
        cpf = "".join(ch for ch in row["cpf"] if ch.isdigit())
        try:
            phone = phonenumbers.parse(f"+55{row['area_code']}{row['phone_number']}")
            valid = (
                cpf_check.validate(cpf)
                and phonenumbers.is_valid_number(phone)
                and bool(email_validator.validate_email(row["email"], check_deliverability=False))
                and date.fromisoformat(row["birthday"]) < IMPORT_DATE
                and bool(row["user_name"].strip())
            )
        except (ValueError, phonenumbers.NumberParseException):
            valid = False
        if not valid:
            rejected += 1
            continue
        with engine.begin() as conn:
            found = conn.execute(
                text("SELECT id FROM subscriptions WHERE cpf = :cpf"), {"cpf": cpf}
            ).first()
            if found:
                rejected += 1
                continue
            gender = row["gender"].strip().upper() or None
            conn.execute(
                insert,
                {
                    **row,
                    "cpf": cpf,
                    "first_name": first_name_key(row["user_name"]),
                    "gender": gender if gender in ("M", "F") else None,
                    "birthday": date.fromisoformat(row["birthday"]),
                    "area_code": row["area_code"][:2],
                    "phone_number": row["phone_number"][:9],
                    "cep": "".join(ch for ch in row["cep"] if ch.isdigit())[:8],
                    "uf": row["uf"][:2],
                    "unit_id": int(row["unit_id"]),
                    "monthly_price": float(row["monthly_price"]),
                    "capture_period": int(row["capture_period"]),
                    "import_date": IMPORT_DATE,
                    "now": utcnow(),
                },
            )
        inserted += 1
    with engine.connect() as conn:
        missing = conn.execute(
            text("SELECT id, first_name FROM subscriptions WHERE gender IS NULL")
        ).all()
    for sub_id, first_name in missing:
        with engine.begin() as conn:
            found = conn.execute(
                text("SELECT classification FROM names WHERE first_name = :n"), {"n": first_name}
            ).first()
            conn.execute(
                text("UPDATE subscriptions SET gender = :g WHERE id = :id"),
                {"g": found[0] if found else "NI", "id": sub_id},
            )
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "rows": len(rows), "imported": inserted, "rejected": rejected}


def _case(kind: str, backend: str, path: Path, sample: int) -> dict[str, Any]:
    """Run one case in this process: fresh database, names loaded, then the measured work."""
    from kroton_pipeline.data.names import load_names
    from kroton_pipeline.db.engine import make_engine

    database = sqlite_database() if backend == "sqlite" else postgres_database()
    with database as url:
        engine = make_engine(url)
        started = time.perf_counter()
        names = load_names(engine)
        names_seconds = time.perf_counter() - started
        engine.dispose()
        result = _ours(url, path) if kind == "ours" else _baseline(url, path, sample)
    return {**result, "names": names, "names_seconds": names_seconds, "peak_mb": peak_rss_mb()}


def _spawn(kind: str, backend: str, path: Path, sample: int) -> dict[str, Any]:
    """Run a case in a child process; its report includes its own peak RSS (MB)."""
    command = [sys.executable, "-m", "benchmarks.import_throughput", "--case", kind, backend]
    done = subprocess.run([*command, str(path), str(sample)], stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"import_throughput case {kind}/{backend} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(
    rows: int = ROWS,
    sample: int = SAMPLE,
    backends: list[str] | None = None,
    large_rows: int = LARGE_ROWS,
) -> list[Figure]:
    """Ours on every row and the baseline on a sample, per backend, then ours on
    ``large_rows`` (0: skipped); return the table rows."""
    backends = backends or ["sqlite", *(["postgres"] if postgres_available() else [])]
    path = cached_export(IMPORT_DATE, rows, SEED)
    figures: list[Figure] = []
    for backend in backends:
        ours = _spawn("ours", backend, path, sample)
        base = _spawn("baseline", backend, path, sample)
        base_full = base["seconds"] * rows / base["rows"]
        speedup = base_full / ours["seconds"]
        print(
            f"import_throughput[{backend}]: {ours['rows']:,} rows, {ours['imported']:,} imported, "
            f"{ours['rejected']:,} rejected, {ours['genders_filled']:,} genders filled; import "
            f"{ours['import_seconds']:.1f} s + gender fill "
            f"{ours['seconds'] - ours['import_seconds']:.1f} s; names table ({ours['names']:,} "
            f"names) loaded beforehand in {ours['names_seconds']:.1f} s. Baseline: "
            f"{base['rows']:,} rows in {base['seconds']:.1f} s "
            f"({base['rows'] / base['seconds']:,.0f} rows/s), extrapolated ×{rows / base['rows']:g}"
        )
        name = f"3 import throughput ({backend})"
        figures += [
            Figure(
                name,
                f"wall: import+validate+genders, {rows:,} leads",
                f"{ours['seconds']:.1f} s",
                f"{base_full:.0f} s (extrapolated)",
                "",
                f"< {WALL_TARGET_SECONDS:g} s",
                met(ours["seconds"] < WALL_TARGET_SECONDS),
            ),
            Figure(
                name,
                f"speed-up over the per-row baseline ({base['rows']:,}-row sample)",
                f"{speedup:.1f}×",
                "1×",
                "",
                f"≥ {SPEEDUP_TARGET:g}×",
                met(speedup >= SPEEDUP_TARGET),
            ),
            Figure(
                name,
                "peak RSS of the case's process (VmHWM)",
                f"{ours['peak_mb']:.0f} MB",
                f"{base['peak_mb']:.0f} MB ({base['rows']:,} rows)",
                "",
                f"< {MEMORY_TARGET_MB:g} MB",
                met(ours["peak_mb"] < MEMORY_TARGET_MB),
            ),
            Figure(
                name, "names table load (before, not in wall)", f"{ours['names_seconds']:.1f} s"
            ),
        ]
        if large_rows:
            large = _spawn("ours", backend, scaled_export(path, large_rows), sample)
            print(
                f"import_throughput[{backend}]: {large['rows']:,} rows, import "
                f"{large['import_seconds']:.1f} s + gender fill "
                f"{large['seconds'] - large['import_seconds']:.1f} s, "
                f"peak {large['peak_mb']:.0f} MB"
            )
            figures += [
                Figure(
                    name,
                    f"wall: import+validate+genders, {large['rows']:,} leads",
                    f"{large['seconds']:.1f} s",
                ),
                Figure(
                    name,
                    f"peak RSS, {large['rows']:,} leads (VmHWM)",
                    f"{large['peak_mb']:.0f} MB",
                    target=f"< {LARGE_MEMORY_TARGET_MB:g} MB",
                    verdict=met(large["peak_mb"] < LARGE_MEMORY_TARGET_MB),
                ),
            ]
    return figures


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--case":
        kind, backend, path, sample = argv[1], argv[2], Path(argv[3]), int(argv[4])
        print(json.dumps(_case(kind, backend, path, sample)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--sample", type=int, default=SAMPLE)
    parser.add_argument("--large-rows", type=int, default=LARGE_ROWS, help="0: skip")
    parser.add_argument("--backends", help="comma-separated: sqlite,postgres (default: both)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    backends = args.backends.split(",") if args.backends else None
    figures = run(args.rows, args.sample, backends, args.large_rows)
    print_report("Import throughput", figures, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
