"""The sample Databricks export: columns, size, determinism, bad rows, atomic writes."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from kroton_pipeline.domain.leads import REQUIRED_COLUMNS
from kroton_pipeline.sandbox.export_bad_rows import BAD_KINDS
from kroton_pipeline.sandbox.export_generator import COLUMNS, generate_export, write_export
from kroton_pipeline.sandbox.validation import cpf_is_valid

DAY = date(2026, 11, 28)


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    return generate_export(DAY, 600, seed=5)


def test_columns_and_size_follow_the_spec(export: pd.DataFrame) -> None:
    # The writer's columns (the sandbox stands apart from product code) are the reader's.
    assert list(export.columns) == COLUMNS == list(REQUIRED_COLUMNS)
    assert len(export) == 600
    assert all(isinstance(v, str) for v in export.to_numpy().ravel())


def test_generation_is_deterministic_per_seed_and_date() -> None:
    first = generate_export(DAY, 50, seed=1)
    assert first.equals(generate_export(DAY, 50, seed=1))
    assert not first.equals(generate_export(DAY, 50, seed=2))
    assert not first.equals(generate_export(date(2026, 11, 29), 50, seed=1))


def test_bad_rows_have_the_requested_share_and_every_kind(export: pd.DataFrame) -> None:
    bad = export.attrs["bad_rows"]
    assert len(bad) == 30
    assert set(bad.values()) == set(BAD_KINDS)
    good = export.drop(index=list(bad))
    assert good["cpf"].map(cpf_is_valid).all()
    assert good["cpf"].str.replace(r"\D", "", regex=True).is_unique
    invalid = {i for i, k in bad.items() if k in ("cpf_check_digits", "cpf_same_digits")}
    assert not export.loc[sorted(invalid), "cpf"].map(cpf_is_valid).any()


def test_rows_look_like_real_leads(export: pd.DataFrame) -> None:
    good = export.drop(index=list(export.attrs["bad_rows"]))
    assert 0.2 < (export["gender"] == "").mean() < 0.4
    assert set(good["gender"]) <= {"", "M", "F"}
    assert good["area_code"].str.fullmatch(r"\d{2}").all()
    assert good["phone_number"].str.fullmatch(r"9\d{8}").all()
    assert good["birthday"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    punctuated = export["cpf"].str.contains(".", regex=False).mean()
    assert 0.3 < punctuated < 0.7
    assert set(export["system"]) <= {"OLIMPO", "COLABORAR"}
    assert export["monthly_price"].map(lambda p: bool(re.fullmatch(r"\d+\.\d{2}", p))).all()


def test_course_fields_come_from_a_few_catalog_searches(export: pd.DataFrame) -> None:
    searches = export.attrs["searches"]
    assert len(searches) == 40
    usable = [n for _, n in searches]
    assert sum(n >= 2 for n in usable) > 0.75 * len(usable)
    assert any(n < 2 for n in usable)
    keys = export[
        [
            "course_name",
            "unit_id",
            "course_type",
            "modality",
            "monthly_price",
            "capture_period",
            "system",
            "campus",
        ]
    ].drop_duplicates()
    assert len(keys) <= 40


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_export_is_atomic_and_round_trips(tmp_path: Path, fmt: str) -> None:
    frame = generate_export(DAY, 40, seed=3)
    path = write_export(frame, tmp_path / "landing", DAY, fmt=fmt)
    assert path.name == f"leads_2026-11-28.{fmt}"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    if fmt == "csv":
        back = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        back = pd.read_parquet(path)
    assert list(back.columns) == COLUMNS
    assert back.equals(frame.reset_index(drop=True)) or (back.values == frame.values).all()


def test_cli_writes_the_file(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "kroton_pipeline.sandbox.export_generator",
        "--date",
        "2026-11-28",
        "--size",
        "30",
        "--out",
        str(tmp_path),
        "--format",
        "csv",
    ]
    subprocess.run(command, check=True, capture_output=True, cwd=Path(__file__).parents[2])
    frame = pd.read_csv(tmp_path / "leads_2026-11-28.csv", dtype=str, keep_default_na=False)
    assert len(frame) == 30
    assert Counter(frame.columns) == Counter(COLUMNS)
