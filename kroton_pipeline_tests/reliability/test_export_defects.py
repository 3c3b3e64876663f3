"""Export defects seen in real Databricks, Spark and Excel exports, on SQLite and PostgreSQL.

Each defect is a whole file as it would land. Either the file is refused with a message that
names the file's problem (row and column, never a value), or, in every case: rows in =
imported + rejected (in the result and in the database), every rejection has a reason and
its 1-based data row number, and every imported row holds exactly the expected values, so
no stored text differs from the file's characters.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.db.models import LeadRejection, Subscription
from kroton_pipeline.domain.leads import REQUIRED_COLUMNS
from kroton_pipeline.steps.import_leads import import_export
from kroton_pipeline_tests.reliability.bad_exports import (
    CPFS,
    GOOD,
    IMPORT_DATE,
    csv_bytes,
    parquet_bytes,
)
from kroton_pipeline_tests.reliability.pipeline_state import RULES
from kroton_pipeline_tests.reliability.test_bad_input import land, written

COLUMNS = list(REQUIRED_COLUMNS)
NAME = "João Conceição D’Ávila"


def row(n: int = 0, **overrides: str) -> dict[str, str]:
    """A good export row (accented name, CPF number ``n``) with some fields replaced."""
    return {**GOOD, "user_name": NAME, "cpf": CPFS[n], **overrides}


def stored(n: int = 0, **overrides: Any) -> dict[str, Any]:
    """What a good row ``n`` becomes in ``subscriptions``, with some values replaced."""
    return {
        "cpf": CPFS[n], "user_name": NAME, "gender": "M", "birthday": date(1989, 8, 31),
        "email": GOOD["email"], "area_code": "11", "phone_number": "975405666",
        "cep": "12243740", "street": "Rua Pedro de Toledo", "number": "48",
        "city": "São José dos Campos", "uf": "SP", "address_defaulted": False,
        "course_name": "Direito", "unit_id": 1093731, "course_type": "Graduação",
        "modality": "Presencial", "monthly_price": Decimal("899.90"), "capture_period": 202501,
        "system": "OLIMPO", "campus": "Centro", **overrides,
    }  # fmt: skip


def raw_lines(lines: list[list[str]], delimiter: str = ",", newline: str = "\n") -> bytes:
    """Rows joined as written, without any quoting (to build malformed files)."""
    return newline.join(delimiter.join(fields) for fields in lines).encode() + newline.encode()


def values(r: dict[str, str]) -> list[str]:
    return [r[column] for column in COLUMNS]


def parquet_of(rows: list[dict[str, Any]], **types: pa.DataType) -> bytes:
    """Rows as a Parquet file; ``types`` gives some columns an Arrow type."""
    schema = pa.schema([(c, types.get(c, pa.string())) for c in rows[0]])
    table = pa.Table.from_pylist(rows, schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Defect:
    """One defective export: imported rows (row -> stored values), rejected rows (row ->
    reason), or ``refused`` (exception class name, texts its message contains)."""

    name: str
    content: bytes
    fmt: str = "csv"
    imported: dict[int, dict[str, Any]] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)
    refused: tuple[str, ...] | None = None

    @property
    def rows_in(self) -> int:
        return len(self.imported) + len(self.rejected)


HEADER = COLUMNS
COMMA_IN_STREET = values(row(0, street="Rua Pedro, 48"))  # unquoted: one field too many
FIVE_MB = "Rua " + "A" * 5_000_000
SHORT = values(row(1))[:-1]  # the last field missing


def _trailing_empty_columns() -> bytes:
    return raw_lines([[*HEADER, "", ""], [*values(row(0)), "", ""], [*values(row(1)), "", ""]])


def _mixed_encodings() -> bytes:
    first = csv_bytes([row(0)])
    second = csv_bytes([row(1)]).split(b"\n", 1)[1].decode().encode("cp1252")
    return first + second


def _mojibake() -> bytes:
    return csv_bytes([row(0), row(1, user_name="JoÃ£o ConceiÃ§Ã£o")])


def _parquet_typed_birthdays() -> bytes:
    rows = [row(0), row(1), row(2)]
    frame = pd.DataFrame(rows)
    local = pd.Timestamp("1989-08-31 00:00", tz="America/Sao_Paulo")
    frame["birthday"] = pd.Series(
        [local.tz_convert("UTC"), pd.Timestamp("1989-08-31 00:00", tz="UTC"), None]
    )
    return parquet_bytes(frame)


def _parquet_nullable_ints() -> bytes:
    frame = pd.DataFrame([row(0), row(1)])
    frame["area_code"] = pd.array([11, None], dtype="Int64")
    frame["phone_number"] = pd.array([975405666, 975405666], dtype="int64")
    frame["unit_id"] = pd.array([1093731, 1093731], dtype="Int64")
    frame["capture_period"] = pd.array([202501, 202501], dtype="int32")
    return parquet_bytes(frame)


def _parquet_float_cpf_with_null() -> bytes:
    frame = pd.DataFrame([row(0, cpf="01234567890"), row(1), row(2)])
    frame["cpf"] = [1234567890.0, float(CPFS[1]), None]
    return parquet_bytes(frame)


def _parquet_decimal_and_date() -> bytes:
    base = {c: row(0)[c] for c in COLUMNS}
    rows = [
        {**base, "monthly_price": Decimal("899.90"), "birthday": date(1989, 8, 31)},
        {**row(1), "monthly_price": Decimal("1234.50"), "birthday": date(1990, 1, 2)},
    ]
    return parquet_of(rows, monthly_price=pa.decimal128(10, 2), birthday=pa.date32())


def _parquet_duplicate_columns() -> bytes:
    table = pa.table([pa.array([v]) for v in values(row(0))], names=COLUMNS)
    table = table.append_column("CPF", pa.array([CPFS[1]]))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _parquet_null_strings() -> bytes:
    frame = pd.DataFrame([row(0), row(1)])
    frame["gender"] = ["M", None]
    frame["campus"] = ["Centro", None]
    return parquet_bytes(frame)


DEFECTS: list[Defect] = [
    # Rows with the wrong number of fields: only that row is rejected.
    Defect(
        "unquoted_comma_in_first_row",
        raw_lines([HEADER, COMMA_IN_STREET, values(row(1))]),
        imported={2: stored(1)},
        rejected={1: "wrong_field_count"},
    ),
    Defect(
        "unquoted_comma_in_second_row",
        raw_lines([HEADER, values(row(1)), COMMA_IN_STREET, values(row(2))]),
        imported={1: stored(1), 3: stored(2)},
        rejected={2: "wrong_field_count"},
    ),
    Defect(
        "row_with_a_field_missing",
        raw_lines([HEADER, values(row(0)), SHORT]),
        imported={1: stored(0)},
        rejected={2: "wrong_field_count"},
    ),
    Defect(
        "every_row_malformed",
        raw_lines([HEADER, COMMA_IN_STREET, SHORT]),
        rejected={1: "wrong_field_count", 2: "wrong_field_count"},
    ),
    Defect(
        "trailing_empty_columns",
        _trailing_empty_columns(),
        imported={1: stored(0), 2: stored(1)},
    ),
    Defect(
        "trailing_delimiter_on_data_rows",
        raw_lines([HEADER, [*values(row(0)), ""], [*values(row(1)), ""]]),
        imported={1: stored(0), 2: stored(1)},
    ),
    Defect(
        "blank_lines_between_rows",
        raw_lines([HEADER, [], values(row(0)), [], [], values(row(1)), []]),
        imported={1: stored(0), 2: stored(1)},
    ),
    Defect(
        "spreadsheet_empty_rows_at_the_end",
        raw_lines([HEADER, values(row(0)), [""] * 20, [""] * 20]),
        imported={1: stored(0)},
    ),
    Defect(
        "old_mac_line_ends",
        csv_bytes([row(0), row(1)], newline="\r"),
        imported={1: stored(0), 2: stored(1)},
    ),
    # Encodings.
    Defect(
        "utf8_bom_and_crlf",
        b"\xef\xbb\xbf" + csv_bytes([row(0), row(1)], newline="\r\n"),
        imported={1: stored(0), 2: stored(1)},
    ),
    Defect(
        "cp1252_curly_apostrophe",
        csv_bytes([row(0)], encoding="cp1252"),
        imported={1: stored(0)},
    ),
    Defect(
        "cp1252_en_dash_and_ordinal",
        csv_bytes([row(0, course_type="Graduação – 1º ano")], encoding="cp1252"),
        imported={1: stored(0, course_type="Graduação – 1º ano")},
    ),
    Defect(
        "mixed_utf8_and_cp1252",
        _mixed_encodings(),
        refused=("ExportUnreadable", "mixes encodings", "row 2", "user_name"),
    ),
    Defect(
        "mojibake_in_utf8_text",
        _mojibake(),
        refused=("ExportUnreadable", "garbled", "row 2", "user_name"),
    ),
    Defect(
        "c1_control_character",
        csv_bytes([row(0, user_name="João D\u0092Ávila")]),
        refused=("ExportUnreadable", "garbled", "row 1", "user_name"),
    ),
    Defect(
        "byte_undefined_in_cp1252",
        csv_bytes([row(0, user_name="Joao", city="Sxo", course_type="Graduacao")]).replace(
            b"Sxo", b"S\x81o"
        ),
        refused=("ExportUnreadable", "neither UTF-8 nor cp1252", "row 1", "city"),
    ),
    Defect(
        "nul_character",
        csv_bytes([row(0), row(1, street="Rua\x00 Pedro")]),
        refused=("ExportUnreadable", "NUL", "row 2", "street"),
    ),
    Defect(
        "utf16_export",
        csv_bytes([row(0)]).decode().encode("utf-16"),
        refused=("ExportUnreadable", "UTF-16"),
    ),
    # Delimiters, quoting, whitespace.
    Defect(
        "semicolon_with_decimal_comma",
        csv_bytes([row(0, monthly_price="1.234,56"), row(1)], delimiter=";"),
        imported={1: stored(0, monthly_price=Decimal("1234.56")), 2: stored(1)},
    ),
    Defect(
        "pipe_delimiter",
        csv_bytes([row(0)], delimiter="|"),
        imported={1: stored(0)},
    ),
    Defect(
        "quoted_delimiter_in_street",
        csv_bytes([row(0, street="Rua Pedro, 48")]),
        imported={1: stored(0, street="Rua Pedro, 48")},
    ),
    Defect(
        "quoted_crlf_in_address",
        csv_bytes([row(0, street="Rua Pedro\r\nde Toledo"), row(1)], newline="\r\n"),
        imported={1: stored(0), 2: stored(1)},
    ),
    Defect(
        "escaped_quotes_in_name",
        csv_bytes([row(0, user_name='João "Joca" Conceição')]),
        imported={1: stored(0, user_name='João "Joca" Conceição')},
    ),
    Defect(
        "no_break_spaces",
        csv_bytes(
            [
                row(
                    0,
                    user_name="João\u00a0Conceição D’Ávila\u00a0",
                    city="\u00a0São José dos Campos",
                )
            ]
        ),
        imported={1: stored(0)},
    ),
    Defect(
        "zero_width_characters",
        csv_bytes([row(0, cpf=CPFS[0] + "\u200b", user_name="Jo\u200bão Conceição D’Ávila")]),
        imported={1: stored(0)},
    ),
    Defect(
        "tabs_inside_values",
        csv_bytes([row(0, street="Rua\tPedro de\tToledo", email="\t" + GOOD["email"])]),
        imported={1: stored(0)},
    ),
    Defect(
        "null_strings",
        csv_bytes([row(0, gender="NULL", cep="NaN"), row(1, gender="null", campus="None")]),
        imported={1: stored(0, gender=None, address_defaulted=True)},
        rejected={2: "missing_course_data"},
    ),
    # Header.
    Defect(
        "header_with_spaces_and_case",
        raw_lines([[f" {c.replace('_', ' ').title()} " for c in COLUMNS], values(row(0))]),
        imported={1: stored(0)},
    ),
    Defect(
        "header_with_zero_width_and_hyphens",
        raw_lines([["\u200bcpf", *[c.replace("_", "-") for c in COLUMNS[1:]]], values(row(0))]),
        imported={1: stored(0)},
    ),
    Defect(
        "duplicate_columns_by_case",
        raw_lines([[*HEADER, "CPF"], [*values(row(0)), CPFS[1]]]),
        refused=("ExportUnreadable", "duplicate column names", "cpf"),
    ),
    Defect(
        "extra_unknown_columns_between",
        raw_lines(
            [
                ["utm_source", *HEADER[:5], "score", *HEADER[5:]],
                ["google", *values(row(0))[:5], "9", *values(row(0))[5:]],
            ]
        ),
        imported={1: stored(0)},
    ),
    Defect(
        "empty_column_name_in_the_middle",
        raw_lines(
            [[*HEADER[:3], "", *HEADER[3:]], [*values(row(0))[:3], "x", *values(row(0))[3:]]]
        ),
        imported={1: stored(0)},
    ),
    # Numeric damage (Excel, float columns).
    Defect(
        "scientific_notation_cpf",
        csv_bytes([row(0, cpf="3.784576087E+10"), row(1, cpf="5.2998224725E+10")]),
        imported={1: stored(0), 2: stored(1)},
    ),
    Defect(
        "float_suffix_cpf_lost_leading_zero",
        csv_bytes([row(0, cpf="1234567890.0"), row(1, cpf=CPFS[1] + ".0")]),
        imported={1: stored(0, cpf="01234567890"), 2: stored(1)},
    ),
    Defect(
        "float_suffix_phone_columns",
        csv_bytes([row(0, area_code="11.0", phone_number="975405666.0")]),
        imported={1: stored(0)},
    ),
    Defect(
        "float_suffix_cep_lost_leading_zero",
        csv_bytes([row(0, cep="1310100.0", street="Av Paulista", city="São Paulo")]),
        imported={1: stored(0, cep="01310100", street="Av Paulista", city="São Paulo")},
    ),
    Defect(
        "excel_date_serial_birthday",
        csv_bytes([row(0, birthday="32751")]),
        imported={1: stored(0)},
    ),
    Defect(
        "float_suffix_unit_and_period",
        csv_bytes([row(0, unit_id="1093731.0", capture_period="202501.0")]),
        imported={1: stored(0)},
    ),
    # Values past the database column's limits: rejected alone, never a failed import.
    Defect(
        "capture_period_integer_overflow",
        csv_bytes([row(0, capture_period="202610000000"), row(1)]),
        imported={2: stored(1)},
        rejected={1: "value_out_of_range"},
    ),
    Defect(
        "monthly_price_numeric_overflow",
        csv_bytes([row(0, monthly_price="123456789,00"), row(1)], delimiter=";"),
        imported={2: stored(1)},
        rejected={1: "value_out_of_range"},
    ),
    Defect(
        "monthly_price_largest_storable",
        csv_bytes([row(0, monthly_price="99999999.99")]),
        imported={1: stored(0, monthly_price=Decimal("99999999.99"))},
    ),
    Defect(
        "limits_reached_exactly",
        csv_bytes([row(0, capture_period="2147483647", street="R" * 200, campus="C" * 120)]),
        imported={1: stored(0, capture_period=2147483647, street="R" * 200, campus="C" * 120)},
    ),
    Defect(
        "number_one_character_too_long",
        csv_bytes([row(0, number="1234 apto 12 bloco C1"), row(1, number="1234 apto 12 bloco C")]),
        imported={2: stored(1, number="1234 apto 12 bloco C")},
        rejected={1: "value_too_long"},
    ),
    Defect(
        "five_megabyte_street",
        csv_bytes([row(0, street=FIVE_MB), row(1)]),
        imported={2: stored(1)},
        rejected={1: "value_too_long"},
    ),
    Defect(
        "name_longer_than_its_column",
        csv_bytes([row(0, user_name="Maria " + "Silva " * 40), row(1)]),
        imported={2: stored(1)},
        rejected={1: "value_too_long"},
    ),
    Defect(
        "campus_longer_than_its_column",
        csv_bytes([row(0, campus="C" * 121)]),
        rejected={1: "value_too_long"},
    ),
    # Spark / Databricks Parquet typing.
    Defect(
        "parquet_timezone_aware_birthday",
        _parquet_typed_birthdays(),
        fmt="parquet",
        imported={1: stored(0), 2: stored(1, birthday=date(1989, 8, 30))},
        rejected={3: "invalid_birthday"},
    ),
    Defect(
        "parquet_nullable_integers",
        _parquet_nullable_ints(),
        fmt="parquet",
        imported={1: stored(0)},
        rejected={2: "invalid_phone"},
    ),
    Defect(
        "parquet_float_cpf_with_null",
        _parquet_float_cpf_with_null(),
        fmt="parquet",
        imported={1: stored(0, cpf="01234567890"), 2: stored(1)},
        rejected={3: "invalid_cpf"},
    ),
    Defect(
        "parquet_decimal_price_and_date",
        _parquet_decimal_and_date(),
        fmt="parquet",
        imported={
            1: stored(0),
            2: stored(1, monthly_price=Decimal("1234.50"), birthday=date(1990, 1, 2)),
        },
    ),
    Defect(
        "parquet_null_strings",
        _parquet_null_strings(),
        fmt="parquet",
        imported={1: stored(0)},
        rejected={2: "missing_course_data"},
    ),
    Defect(
        "parquet_duplicate_columns_by_case",
        _parquet_duplicate_columns(),
        fmt="parquet",
        refused=("ExportUnreadable", "duplicate column names", "cpf"),
    ),
]
BY_NAME = {defect.name: defect for defect in DEFECTS}


def test_the_corpus_has_at_least_forty_defects() -> None:
    assert len(DEFECTS) >= 40
    assert len(BY_NAME) == len(DEFECTS), "defect names must be unique"


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda defect: defect.name)
def test_export_defect(db_url: str, tmp_path: Path, defect: Defect) -> None:
    engine = make_engine(db_url)
    try:
        _check(engine, defect, tmp_path / "landing")
    finally:
        engine.dispose()


def _check(engine: Any, defect: Defect, folder: Path) -> None:
    export = land(folder, defect.content, defect.fmt)
    if defect.refused is not None:
        kind, *texts = defect.refused
        with pytest.raises(Exception) as raised:
            import_export(engine, export, RULES, "defects")
        message = str(raised.value)
        assert type(raised.value).__name__ == kind, message
        for text in texts:
            assert text in message
        for personal in (*CPFS, "João", "Conceição", GOOD["email"]):
            assert personal not in message, "personal data in the error message"
        assert written(engine) == (0, 0, 0), "a refused file must write nothing"
        return

    result = import_export(engine, export, RULES, "defects")
    assert result.rows_in == defect.rows_in
    assert result.balanced, "rows in != imported + rejected"
    assert written(engine) == (len(defect.imported), len(defect.rejected), 1)
    with engine.connect() as conn:
        rejections = conn.execute(
            select(LeadRejection.row_number, LeadRejection.reason, LeadRejection.detail).where(
                LeadRejection.import_date == IMPORT_DATE
            )
        ).all()
        subscriptions = {
            row["row_number"]: dict(row)
            for row in conn.execute(
                select(Subscription).where(Subscription.import_date == IMPORT_DATE)
            ).mappings()
        }
    for row_number, reason, detail in rejections:
        assert reason and detail and row_number is not None and 1 <= row_number <= result.rows_in
    assert {row_number: reason for row_number, reason, _ in rejections} == defect.rejected
    assert set(subscriptions) == set(defect.imported)
    for row_number, expected in defect.imported.items():
        actual = {column: subscriptions[row_number][column] for column in expected}
        assert actual == expected, f"row {row_number}"


@pytest.mark.parametrize("malformed", [False, True], ids=["arrow", "row_by_row"])
def test_a_file_read_in_chunks_numbers_and_deduplicates_across_them(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, malformed: bool
) -> None:
    """Two rows a chunk: row numbers run on, a CPF repeated in a later chunk is a duplicate."""
    monkeypatch.setattr("kroton_pipeline.landing.CHUNK_ROWS", 2)
    lines = [HEADER, values(row(0)), values(row(1)), values(row(2)), values(row(0)), values(row(3))]
    if malformed:
        lines.insert(4, SHORT)  # row 4, in the second chunk
    defect = Defect(
        "chunked",
        raw_lines(lines),
        imported={1: stored(0), 2: stored(1), 3: stored(2), (6 if malformed else 5): stored(3)},
        rejected={5: "duplicate_cpf_in_file", 4: "wrong_field_count"}
        if malformed
        else {4: "duplicate_cpf_in_file"},
    )
    engine = make_engine(db_url)
    try:
        _check(engine, defect, tmp_path / "landing")
        with engine.connect() as conn:
            details = conn.execute(
                select(LeadRejection.detail).where(LeadRejection.reason == "duplicate_cpf_in_file")
            ).scalars()
            assert list(details) == ["same cpf as row 1"]
    finally:
        engine.dispose()
