"""The bad-input cases of the import: one export file each, and what must become of it.

Each :class:`Case` is a whole file (bytes as they would land) and the expected outcome: the
file refused with a named error, or each row imported or rejected with its reason code.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from kroton_pipeline.domain.leads import REQUIRED_COLUMNS
from kroton_pipeline_tests.domain.lead_rows import GOOD_ROW

IMPORT_DATE = date(2025, 1, 15)
COLUMNS = list(REQUIRED_COLUMNS)

# The domain tests' good row, with an address at a reserved domain.
GOOD: dict[str, str] = {**GOOD_ROW, "email": "mauricio.matsoui@example.com"}
# Valid CPFs (check digits right) for rows that must not collide.
CPFS = ["37845760870", "52998224725", "11144477735", "39053344705", "12345678909"]


def good(n: int = 0, **overrides: str) -> dict[str, str]:
    """The good row with CPF number ``n`` and some fields replaced."""
    return {**GOOD, "cpf": CPFS[n], **overrides}


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    columns: list[str] | None = None,
    delimiter: str = ",",
    newline: str = "\n",
    encoding: str = "utf-8",
) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns or COLUMNS, delimiter=delimiter, lineterminator=newline,
        extrasaction="ignore",
    )  # fmt: skip
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    """One export and its expected outcome.

    ``refused``: (exception class name, text its message contains) when the file is refused
    whole; else ``rejected`` maps data row number -> reason code, the other rows import.
    ``stored`` maps row number -> column values the imported subscription must hold.
    """

    name: str
    content: bytes
    fmt: str = "csv"
    rows_in: int = 1
    rejected: dict[int, str] = field(default_factory=dict)
    stored: dict[int, dict[str, Any]] = field(default_factory=dict)
    refused: tuple[str, str] | None = None
    earlier: bytes | None = None  # an export imported the day before


def _wrong_types_parquet() -> bytes:
    frame = pd.DataFrame([good(0), good(1)])
    frame["cpf"] = frame["cpf"].str.replace(r"\D", "", regex=True).astype("int64")
    frame["unit_id"] = frame["unit_id"].astype("float64")
    frame["monthly_price"] = frame["monthly_price"].astype("float64")
    frame["capture_period"] = frame["capture_period"].astype("int32")
    frame["birthday"] = pd.to_datetime(frame["birthday"])
    frame["area_code"] = frame["area_code"].astype("int64")
    frame["phone_number"] = frame["phone_number"].astype("int64")
    return parquet_bytes(frame)


def _leading_zero_cpf_parquet() -> bytes:
    # 012.345.678-90 loses its leading zero as an integer column; the reader puts it back.
    frame = pd.DataFrame([good(0, cpf="01234567890")])
    frame["cpf"] = frame["cpf"].astype("int64")
    return parquet_bytes(frame)


def _spaced(row: dict[str, str]) -> dict[str, str]:
    return {key: f"  {value} \t" for key, value in row.items()}


TOO_YOUNG = f"{IMPORT_DATE.year - 10}-01-01"
FUTURE = f"{IMPORT_DATE.year + 1}-01-01"

CASES: list[Case] = [
    Case("empty_file", b"", rows_in=0, refused=("ExportUnreadable", "empty")),
    Case("only_blank_lines", b"\n\n  \n", rows_in=0, refused=("ExportUnreadable", "empty")),
    Case("header_only", csv_bytes([]), rows_in=0),
    Case(
        "missing_required_column",
        csv_bytes([good()], columns=[c for c in COLUMNS if c != "email"]),
        refused=("MissingColumnsError", "email"),
    ),
    Case(
        "extra_columns",
        csv_bytes(
            [{**good(), "utm_source": "x", "score": "9"}], columns=[*COLUMNS, "utm_source", "score"]
        ),
        stored={1: {"cpf": "37845760870"}},
    ),
    Case("semicolon_delimiter", csv_bytes([good(0), good(1)], delimiter=";"), rows_in=2),
    Case("tab_delimiter", csv_bytes([good(0), good(1)], delimiter="\t"), rows_in=2),
    Case(
        "latin1_encoding",
        csv_bytes([good(user_name="João Conceição")], encoding="latin-1"),
        stored={1: {"user_name": "João Conceição", "city": "São José dos Campos"}},
    ),
    Case(
        "utf8_bom",
        b"\xef\xbb\xbf" + csv_bytes([good()]),
        stored={1: {"cpf": "37845760870"}},
    ),
    Case("crlf_line_ends", csv_bytes([good(0), good(1)], newline="\r\n"), rows_in=2),
    Case(
        "quoted_newline_in_field",
        csv_bytes([good(0, street="Rua Pedro\nde Toledo"), good(1)]),
        rows_in=2,
        stored={1: {"street": "Rua Pedro de Toledo"}},
    ),
    Case(
        "cpf_check_digits_wrong",
        csv_bytes([good(cpf="378.457.608-71")]),
        rejected={1: "invalid_cpf"},
    ),
    Case("cpf_too_short", csv_bytes([good(cpf="3784576087")]), rejected={1: "invalid_cpf"}),
    Case("cpf_with_letters", csv_bytes([good(cpf="378.457.608-7X")]), rejected={1: "invalid_cpf"}),
    Case(
        "cpf_with_punctuation",
        csv_bytes([good(cpf="529.982.247-25")]),
        stored={1: {"cpf": "52998224725"}},
    ),
    Case(
        "cpf_all_same_digit", csv_bytes([good(cpf="111.111.111-11")]), rejected={1: "invalid_cpf"}
    ),
    Case("cpf_empty", csv_bytes([good(cpf="")]), rejected={1: "invalid_cpf"}),
    Case(
        "duplicate_cpf_in_file",
        csv_bytes([good(0), good(1), good(0, user_name="Outra Pessoa")]),
        rows_in=3,
        rejected={3: "duplicate_cpf_in_file"},
    ),
    Case(
        "cpf_imported_on_earlier_date",
        csv_bytes([good(0), good(1)]),
        rows_in=2,
        rejected={1: "cpf_already_imported"},
        earlier=csv_bytes([good(0)]),
    ),
    Case(
        "birthday_before_1900",
        csv_bytes([good(birthday="1899-12-31")]),
        rejected={1: "birthday_before_1900"},
    ),
    Case(
        "birthday_in_future", csv_bytes([good(birthday=FUTURE)]), rejected={1: "birthday_in_future"}
    ),
    Case(
        "birthday_impossible",
        csv_bytes([good(birthday="2001-02-30")]),
        rejected={1: "invalid_birthday"},
    ),
    Case("birthday_garbage", csv_bytes([good(birthday="ontem")]), rejected={1: "invalid_birthday"}),
    Case(
        "birthday_brazilian_format",
        csv_bytes([good(birthday="31/08/1989")]),
        stored={1: {"birthday": date(1989, 8, 31)}},
    ),
    Case("age_too_young", csv_bytes([good(birthday=TOO_YOUNG)]), rejected={1: "age_out_of_range"}),
    Case("email_missing", csv_bytes([good(email="")]), rejected={1: "invalid_email"}),
    Case("email_malformed", csv_bytes([good(email="mauricio@")]), rejected={1: "invalid_email"}),
    Case(
        "email_two_ats", csv_bytes([good(email="a@b@example.com")]), rejected={1: "invalid_email"}
    ),
    Case(
        "phone_without_ddd",
        csv_bytes([good(area_code="", phone_number="975405666")]),
        rejected={1: "invalid_phone"},
    ),
    Case("phone_bad_ddd", csv_bytes([good(area_code="20")]), rejected={1: "invalid_phone"}),
    Case(
        "phone_formatted_with_country_code",
        csv_bytes([good(area_code="", phone_number="+55 (11) 97540-5666")]),
        stored={1: {"area_code": "11", "phone_number": "975405666"}},
    ),
    Case(
        "uf_invalid",
        csv_bytes([good(uf="XX")]),
        stored={1: {"address_defaulted": True, "address_issue": "invalid_uf", "uf": "SP"}},
    ),
    Case(
        "cep_malformed",
        csv_bytes([good(cep="1224-37")]),
        stored={1: {"address_defaulted": True, "address_issue": "invalid_cep"}},
    ),
    Case(
        "address_missing_street_and_number",
        csv_bytes([good(street="", number="")]),
        stored={
            1: {
                "address_defaulted": True,
                "address_issue": "missing_street",
                "street": "Rua Pedro de Toledo",
                "number": "48",
            }
        },
    ),
    Case(
        "name_with_accents",
        csv_bytes([good(user_name="Ângela Müller Conceição")]),
        stored={1: {"user_name": "Ângela Müller Conceição", "first_name": "angela"}},
    ),
    Case(
        "single_word_name", csv_bytes([good(user_name="Xuxa")]), stored={1: {"user_name": "Xuxa"}}
    ),
    Case(
        "name_without_letters", csv_bytes([good(user_name="12345")]), rejected={1: "missing_name"}
    ),
    Case(
        "whitespace_everywhere",
        csv_bytes([_spaced(good(user_name="Maria   das  Dores"))]),
        stored={
            1: {
                "cpf": "37845760870",
                "user_name": "Maria das Dores",
                "email": "mauricio.matsoui@example.com",
                "uf": "SP",
                "address_defaulted": False,
            }
        },
    ),
    Case(
        "price_with_comma_decimal",
        csv_bytes([good(monthly_price="1.234,56")]),
        stored={1: {"monthly_price": 1234.56}},
    ),
    Case(
        "price_not_a_number",
        csv_bytes([good(monthly_price="grátis")]),
        rejected={1: "invalid_price"},
    ),
    Case(
        "modality_unknown",
        csv_bytes([good(modality="Telepatia")]),
        rejected={1: "invalid_modality"},
    ),
    Case("system_unknown", csv_bytes([good(system="XPTO")]), rejected={1: "invalid_system"}),
    Case("unit_id_not_a_number", csv_bytes([good(unit_id="abc")]), rejected={1: "invalid_unit_id"}),
    Case(
        "course_name_missing",
        csv_bytes([good(course_name="")]),
        rejected={1: "missing_course_data"},
    ),
    Case(
        "parquet_with_wrong_types",
        _wrong_types_parquet(),
        fmt="parquet",
        rows_in=2,
        stored={
            1: {"cpf": "37845760870", "unit_id": 1093731, "capture_period": 202501},
            2: {"birthday": date(1989, 8, 31), "phone_number": "975405666"},
        },
    ),
    Case(
        "parquet_integer_cpf_lost_leading_zero",
        _leading_zero_cpf_parquet(),
        fmt="parquet",
        stored={1: {"cpf": "01234567890"}},
    ),
    Case(
        "parquet_unreadable",
        b"PAR1 this is not parquet",
        fmt="parquet",
        rows_in=0,
        refused=("ExportUnreadable", "Parquet"),
    ),
    Case(
        "many_problems_one_row_each",
        csv_bytes([good(0), good(1, cpf="123"), good(2, email="x"), good(3, modality="?")]),
        rows_in=4,
        rejected={2: "invalid_cpf", 3: "invalid_email", 4: "invalid_modality"},
    ),
]
