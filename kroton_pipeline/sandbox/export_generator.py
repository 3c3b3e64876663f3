"""Generate realistic Databricks exports for the sandbox, tests and benchmarks.

``generate_export`` builds a DataFrame of leads whose course fields come from searches that
exist in the bundled catalog, with a controlled share of bad rows (see ``export_bad_rows``);
``write_export`` drops it into a landing folder atomically.

CLI: ``python -m kroton_pipeline.sandbox.export_generator --date 2026-11-28 --size 1000
--out landing [--seed N] [--format csv|parquet]``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from faker import Faker

from kroton_pipeline.sandbox.catalog import Catalog
from kroton_pipeline.sandbox.export_bad_rows import BAD_KINDS, spoil
from kroton_pipeline.sandbox.query import search

COLUMNS = [
    "cpf",
    "user_name",
    "gender",
    "birthday",
    "email",
    "area_code",
    "phone_number",
    "cep",
    "street",
    "number",
    "city",
    "uf",
    "course_name",
    "unit_id",
    "course_type",
    "modality",
    "monthly_price",
    "capture_period",
    "system",
    "campus",
]
SEARCH_KEYS = (
    "dsCurso",
    "idUnidadeOrigem",
    "dsTipoCurso",
    "dsModalidade",
    "vlMensalidadeDe",
    "periodoCaptacao",
    "sistema",
    "nmCampus",
)
THIN_SEARCH_SHARE = 0.15  # searches that find fewer than two usable offers
EMPTY_GENDER_SHARE = 0.30


@dataclass(frozen=True)
class CatalogSearch:
    """One course search a lead can carry, and how many offers the pipeline will find."""

    fields: tuple[Any, ...]  # values of SEARCH_KEYS
    usable_offers: int


def pipeline_query(offer: dict[str, Any], today: date) -> dict[str, Any]:
    """The bool query the pipeline sends for the search ``offer`` belongs to."""
    return {
        "bool": {
            "must": [
                {"match": {"dsCurso": {"query": offer["dsCurso"], "operator": "AND"}}},
                {"match": {"idUnidadeOrigem": offer["idUnidadeOrigem"]}},
                {"match": {"dsTipoCurso": offer["dsTipoCurso"]}},
                {"match": {"vlMensalidadeDe": offer["vlMensalidadeDe"]}},
                {"match": {"ativa": True}},
                {"match": {"dsModalidade": offer["dsModalidade"]}},
                {"term": {"periodoCaptacao": offer["periodoCaptacao"]}},
                {"range": {"dtTerminoInscricao": {"gte": today.isoformat()}}},
            ]
        }
    }


def catalog_searches(catalog: Catalog, today: date) -> list[CatalogSearch]:
    """Every distinct search in the catalog with its usable-offer count on ``today``."""
    seen: dict[tuple[Any, ...], CatalogSearch] = {}
    for offer in catalog.offers:
        key = tuple(offer[k] for k in SEARCH_KEYS)
        if key not in seen:
            hits = search(pipeline_query(offer, today), catalog.offers, today)
            seen[key] = CatalogSearch(key, len(hits))
    return list(seen.values())


@cache
def _bundled_searches(today: date) -> tuple[CatalogSearch, ...]:
    return tuple(catalog_searches(Catalog(), today))


def _pick_searches(rng: random.Random, today: date, count: int) -> list[CatalogSearch]:
    available = _bundled_searches(today)
    rich = [s for s in available if s.usable_offers >= 2]
    thin = [s for s in available if s.usable_offers < 2]
    n_thin = min(len(thin), max(1, round(count * THIN_SEARCH_SHARE)))
    n_rich = min(len(rich), count - n_thin)
    return rng.sample(rich, n_rich) + rng.sample(thin, n_thin)


def _phone(fake: Faker) -> tuple[str, str]:
    digits = re.sub(r"\D", "", fake.cellphone_number())
    if len(digits) > 11 and digits.startswith("55"):
        digits = digits[2:]
    return digits[:2], digits[2:]


def _lead(fake: Faker, rng: random.Random, today: date, course: CatalogSearch) -> dict[str, str]:
    female = rng.random() < 0.5
    first = fake.first_name_female() if female else fake.first_name_male()
    cpf = fake.cpf()
    area_code, phone = _phone(fake)
    values = dict(zip(SEARCH_KEYS, course.fields, strict=True))
    born = today - timedelta(days=rng.randint(17 * 365, 55 * 365))
    return {
        "cpf": cpf if rng.random() < 0.5 else re.sub(r"\D", "", cpf),
        "user_name": f"{first} {fake.last_name()} {fake.last_name()}",
        "gender": "" if rng.random() < EMPTY_GENDER_SHARE else ("F" if female else "M"),
        "birthday": born.isoformat(),
        "email": fake.free_email(),
        "area_code": area_code,
        "phone_number": phone,
        "cep": fake.postcode(),
        "street": fake.street_name(),
        "number": fake.building_number(),
        "city": fake.city(),
        "uf": fake.estado_sigla(),
        "course_name": values["dsCurso"],
        "unit_id": str(values["idUnidadeOrigem"]),
        "course_type": values["dsTipoCurso"],
        "modality": values["dsModalidade"],
        "monthly_price": f"{values['vlMensalidadeDe']:.2f}",
        "capture_period": str(values["periodoCaptacao"]),
        "system": values["sistema"],
        "campus": values["nmCampus"],
    }


def generate_export(
    import_date: date,
    size: int,
    seed: int = 0,
    bad_share: float = 0.05,
    distinct_searches: int = 40,
) -> pd.DataFrame:
    """A Databricks export of ``size`` leads for ``import_date``, deterministic per seed.

    Every column is a string. ``df.attrs["bad_rows"]`` maps row index -> bad-row kind and
    ``df.attrs["searches"]`` lists (search fields, usable offers) for tests and benchmarks.
    """
    if size < 0 or not 0.0 <= bad_share <= 1.0:
        raise ValueError("size must be >= 0 and bad_share within [0, 1]")
    mixed_seed = seed * 1_000_003 + import_date.toordinal()
    rng = random.Random(mixed_seed)
    fake = Faker("pt_BR")
    fake.seed_instance(mixed_seed)
    searches = _pick_searches(rng, import_date, max(1, distinct_searches))
    rows: list[dict[str, str]] = []
    cpfs: set[str] = set()
    while len(rows) < size:
        row = _lead(fake, rng, import_date, rng.choice(searches))
        digits = re.sub(r"\D", "", row["cpf"])
        if digits not in cpfs:  # good rows never share a CPF by accident
            cpfs.add(digits)
            rows.append(row)
    n_bad = round(size * bad_share)
    bad_indexes = sorted(rng.sample(range(size), n_bad)) if size else []
    bad_rows: dict[int, str] = {}
    for position, index in enumerate(bad_indexes):
        kind = BAD_KINDS[position % len(BAD_KINDS)]
        spoil(rows, index, kind, rng, import_date, bad_indexes)
        bad_rows[index] = kind
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype="string").astype(object)
    frame.attrs["bad_rows"] = bad_rows
    frame.attrs["searches"] = [(s.fields, s.usable_offers) for s in searches]
    return frame


def write_export(
    df: pd.DataFrame, landing_dir: Path | str, import_date: date, fmt: str = "csv"
) -> Path:
    """Write ``leads_YYYY-MM-DD.<fmt>`` into ``landing_dir`` atomically; return its path.

    The data goes to a hidden temporary name first and is renamed in one step, so a sensor
    watching the folder never sees half a file.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError("fmt must be 'csv' or 'parquet'")
    folder = Path(landing_dir)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"leads_{import_date.isoformat()}.{fmt}"
    temporary = folder / f".{final.name}.{os.getpid()}.tmp"
    plain = pd.DataFrame(df[COLUMNS])
    plain.attrs = {}
    if fmt == "csv":
        plain.to_csv(temporary, index=False, encoding="utf-8")
    else:
        plain.to_parquet(temporary, index=False)
    os.replace(temporary, final)
    return final


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description="Write a sample Databricks leads export")
    parser.add_argument("--date", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--out", default="landing", help="landing folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--bad-share", type=float, default=0.05)
    parser.add_argument("--distinct-searches", type=int, default=40)
    args = parser.parse_args(argv)
    frame = generate_export(args.date, args.size, args.seed, args.bad_share, args.distinct_searches)
    path = write_export(frame, args.out, args.date, args.format)
    print(f"wrote {len(frame)} leads ({len(frame.attrs['bad_rows'])} bad) to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
