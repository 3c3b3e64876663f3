"""normalise_leads: one test per rule of the import's validation."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from kroton_pipeline.domain.leads import (
    REJECTED_COLUMNS,
    VALID_COLUMNS,
    DefaultAddress,
    MissingColumnsError,
    check_columns,
    normalise_leads,
)
from kroton_pipeline.domain.rejections import AddressIssue, RejectionReason
from kroton_pipeline_tests.domain.lead_rows import (
    GOOD_ROW,
    IMPORT_DATE,
    RULES,
    export_frame,
    faker_rows,
    normalise,
    row,
)

R = RejectionReason


def _reason(**overrides: object) -> str | None:
    """The reason the good row with ``overrides`` is rejected, or None if it is valid."""
    result = normalise([row(**overrides)])
    return None if result.rejected.empty else result.rejected.reason[0]


def _valid(**overrides: object) -> pd.Series:
    result = normalise([row(**overrides)])
    assert result.rejected.empty, result.rejected.detail.tolist()
    return result.valid.iloc[0]


def test_good_row_is_normalised() -> None:
    lead = _valid()
    assert lead.cpf == "37845760870"
    assert lead.user_name == "Mauricio Matsoui"
    assert lead.first_name == "mauricio"
    assert lead.gender == "M"
    assert lead.birthday == pd.Timestamp("1989-08-31")
    assert (lead.area_code, lead.phone_number) == ("11", "975405666")
    assert (lead.cep, lead.uf, lead.address_defaulted, lead.address_issue) == (
        "12243740", "SP", False, None,
    )  # fmt: skip
    assert (lead.unit_id, lead.monthly_price, lead.capture_period) == (1093731, 899.9, 202501)


def test_rows_in_equal_valid_plus_rejected() -> None:
    rows = [*faker_rows(2000), row(cpf="1"), row(user_name=""), row(), row(birthday="x")]
    result = normalise(rows)
    assert len(result.valid) + len(result.rejected) == len(rows)
    numbers = sorted([*result.valid.row_number, *result.rejected.row_number])
    assert numbers == list(range(1, len(rows) + 1))
    assert len(result.valid) > 500 and len(result.rejected) > 500


def test_output_columns_and_dtypes() -> None:
    result = normalise([row(), row(cpf="123")])
    assert tuple(result.valid.columns) == VALID_COLUMNS
    assert tuple(result.rejected.columns) == REJECTED_COLUMNS
    dtypes = result.valid.dtypes
    assert dtypes["birthday"] == np.dtype("datetime64[ns]")
    assert dtypes["unit_id"] == dtypes["capture_period"] == np.dtype("int64")
    assert dtypes["monthly_price"] == np.dtype("float64")
    assert dtypes["address_defaulted"] == np.dtype(bool)
    assert dtypes["gender"] == dtypes["address_issue"] == np.dtype(object)
    assert dtypes["cpf"] == "str"


def test_empty_export_gives_empty_results() -> None:
    result = normalise([])
    assert result.valid.empty and result.rejected.empty


def test_missing_required_column_fails_naming_it() -> None:
    df = export_frame([row()]).drop(columns=["email", "uf"])
    with pytest.raises(MissingColumnsError, match="email, uf"):
        check_columns(df)
    with pytest.raises(MissingColumnsError):
        normalise_leads(df, import_date=IMPORT_DATE, rules=RULES)


def test_extra_columns_are_ignored_but_kept_in_the_audit_trail() -> None:
    df = export_frame([row(), row(cpf="1")])
    df["utm_source"] = "x"
    result = normalise_leads(df, import_date=IMPORT_DATE, rules=RULES)
    assert "utm_source" not in result.valid.columns
    assert result.rejected.raw[0]["utm_source"] == "x"


# --- CPF -------------------------------------------------------------------------------


def test_cpf_with_wrong_check_digit_is_rejected() -> None:
    assert _reason(cpf="378.457.608-71") == R.INVALID_CPF


def test_cpf_with_all_digits_equal_is_rejected() -> None:
    assert _reason(cpf="111.111.111-11") == R.INVALID_CPF


@pytest.mark.parametrize("cpf", ["", None, "7845760870", "378.457.608-7O"])
def test_cpf_without_11_digits_is_rejected(cpf: str | None) -> None:
    assert _reason(cpf=cpf) == R.INVALID_CPF


def test_rejected_row_carries_cpf_digits_only_when_there_are_11() -> None:
    result = normalise([row(cpf="378.457.608-71"), row(cpf="123")])
    assert result.rejected.cpf.tolist() == ["37845760871", None]


def test_rejected_row_keeps_the_original_row_for_the_audit_trail() -> None:
    result = normalise([row(cpf="378.457.608-71", gender=None)])
    raw = result.rejected.raw[0]
    assert raw["cpf"] == "378.457.608-71" and raw["gender"] is None
    assert set(raw) == set(GOOD_ROW)


def test_rejection_detail_has_no_personal_data() -> None:
    rows = [
        row(cpf="378.457.608-71"),
        row(birthday="1850-01-01"),
        row(email="joao@@x.com"),
        row(phone_number="123"),
        row(),
        row(),
    ]
    for detail in normalise(rows).rejected.detail:
        assert not any(s in detail for s in ("378", "1850", "joao", "123", "Mauricio"))


# --- names and gender ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   ", None, "123", "--"])
def test_empty_name_is_rejected(name: str | None) -> None:
    assert _reason(user_name=name) == R.MISSING_NAME


def test_single_word_name_is_valid() -> None:
    assert _valid(user_name="Pelé").user_name == "Pelé"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  JOÃO   DA  SILVA ", "João da Silva"),
        ("maria das dores e souza", "Maria das Dores e Souza"),
        ("McDonald de SOUZA", "McDonald de SOUZA"),
        ("ana\u00a0paula", "Ana Paula"),
    ],
)
def test_name_whitespace_is_collapsed_and_case_fixed_only_when_all_upper_or_lower(
    raw: str, expected: str
) -> None:
    assert _valid(user_name=raw).user_name == expected


def test_first_name_is_lower_case_without_accents() -> None:
    assert _valid(user_name="JOÃO Pedro").first_name == "joao"
    assert _valid(user_name="Dra. Inês Souza").first_name == "ines"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("M", "M"), ("f", "F"), ("Masculino", "M"), ("FEMININO", "F"), ("male", "M"),
     ("Female", "F"), ("masc", "M"), ("Fem", "F"), ("", None), (None, None), ("NI", None),
     ("x", None)],
)  # fmt: skip
def test_gender_spellings_are_normalised_to_m_or_f_or_none(raw: str | None, expected: str) -> None:
    assert _valid(gender=raw).gender == expected


# --- birth date ------------------------------------------------------------------------


@pytest.mark.parametrize("birthday", ["", None, "31-08-1989", "1989/08/31", "ontem", "19890831"])
def test_unparseable_birthday_is_rejected(birthday: str | None) -> None:
    assert _reason(birthday=birthday) == R.INVALID_BIRTHDAY


@pytest.mark.parametrize("birthday", ["2001-02-30", "2001-13-01", "2001-00-10", "1999-02-29"])
def test_impossible_birthday_is_rejected(birthday: str) -> None:
    assert _reason(birthday=birthday) == R.INVALID_BIRTHDAY


def test_brazilian_birthday_format_is_accepted() -> None:
    assert _valid(birthday="31/08/1989").birthday == pd.Timestamp("1989-08-31")
    assert _valid(birthday="1/2/1990").birthday == pd.Timestamp("1990-02-01")
    assert _valid(birthday="2000-02-29").birthday == pd.Timestamp("2000-02-29")


def test_birthday_with_a_midnight_time_is_accepted() -> None:
    assert _valid(birthday="1989-08-31 00:00:00").birthday == pd.Timestamp("1989-08-31")


def test_birthday_before_1900_is_rejected() -> None:
    assert _reason(birthday="1899-12-31") == R.BIRTHDAY_BEFORE_1900
    assert _reason(birthday="0001-01-01") == R.BIRTHDAY_BEFORE_1900


def test_birthday_in_future_is_rejected() -> None:
    assert _reason(birthday="2025-01-16") == R.BIRTHDAY_IN_FUTURE
    assert _reason(birthday="2999-01-01") == R.BIRTHDAY_IN_FUTURE


def test_age_outside_configured_range_is_rejected() -> None:
    # Import date 2025-01-15, ages 16..100.
    assert _reason(birthday="2009-01-15") is None  # 16 today
    assert _reason(birthday="2009-01-16") == R.AGE_OUT_OF_RANGE  # 15 until tomorrow
    assert _reason(birthday="1924-01-16") is None  # 100
    assert _reason(birthday="1924-01-15") == R.AGE_OUT_OF_RANGE  # 101 today
    assert _reason(birthday="2025-01-15") == R.AGE_OUT_OF_RANGE


# --- e-mail and phone ------------------------------------------------------------------


def test_email_is_stripped_and_lower_cased() -> None:
    assert _valid(email="  Ana.Souza@GMAIL.com ").email == "ana.souza@gmail.com"


@pytest.mark.parametrize("email", ["", None, "ana", "ana@gmail", "ana@@gmail.com", "a b@x.com"])
def test_invalid_email_is_rejected(email: str | None) -> None:
    assert _reason(email=email) == R.INVALID_EMAIL


@pytest.mark.parametrize(
    ("area", "number"),
    [("", ""), (None, None), ("11", "875405666"), ("20", "975405666"), ("11", "1234"),
     ("", "975405666"), ("11", "92345678")],
)  # fmt: skip
def test_invalid_phone_is_rejected(area: str | None, number: str | None) -> None:
    assert _reason(area_code=area, phone_number=number) == R.INVALID_PHONE


def test_phone_ddd_is_split_off_when_area_code_is_empty() -> None:
    lead = _valid(area_code="", phone_number="+55 (21) 3234-5678")
    assert (lead.area_code, lead.phone_number) == ("21", "32345678")


# --- address ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "issue"),
    [
        ({"cep": ""}, AddressIssue.MISSING_CEP),
        ({"cep": "1224374"}, AddressIssue.INVALID_CEP),
        ({"cep": "00000-000"}, AddressIssue.INVALID_CEP),
        ({"street": "  "}, AddressIssue.MISSING_STREET),
        ({"number": None}, AddressIssue.MISSING_NUMBER),
        ({"city": ""}, AddressIssue.MISSING_CITY),
        ({"uf": "XX"}, AddressIssue.INVALID_UF),
        ({"uf": None}, AddressIssue.INVALID_UF),
        ({"cep": "", "uf": "XX"}, AddressIssue.MISSING_CEP),
    ],
)
def test_incomplete_address_is_replaced_by_default_and_flagged(
    overrides: dict[str, str | None], issue: AddressIssue
) -> None:
    lead = _valid(**overrides)
    default = DefaultAddress()
    assert lead.address_defaulted
    assert lead.address_issue == issue
    assert (lead.cep, lead.street, lead.number, lead.city, lead.uf) == (
        default.cep, default.street, default.number, default.city, default.uf,
    )  # fmt: skip


def test_configured_default_address_is_used() -> None:
    default = DefaultAddress("01001000", "Praça da Sé", "1", "São Paulo", "SP")
    result = normalise([row(cep="")], default_address=default)
    assert result.valid.street[0] == "Praça da Sé"


def test_complete_address_is_normalised_and_kept() -> None:
    lead = _valid(cep="01001.000", street=" Praça  da Sé ", uf=" rj ")
    assert (lead.cep, lead.street, lead.uf, lead.address_defaulted) == (
        "01001000", "Praça da Sé", "RJ", False,
    )  # fmt: skip


# --- course ----------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["course_name", "course_type", "campus"])
def test_missing_course_data_is_rejected(column: str) -> None:
    assert _reason(**{column: ""}) == R.MISSING_COURSE_DATA


@pytest.mark.parametrize("unit_id", ["", "abc", "12.5", "-3", "0"])
def test_unit_id_that_is_not_a_whole_number_is_rejected(unit_id: str) -> None:
    assert _reason(unit_id=unit_id) == R.INVALID_UNIT_ID


def test_unit_id_exported_as_float_text_is_accepted() -> None:
    assert _valid(unit_id="1093731.0").unit_id == 1093731


@pytest.mark.parametrize(
    ("price", "expected"),
    [("1.234,56", 1234.56), ("1234,56", 1234.56), ("1234.56", 1234.56), ("899", 899.0),
     ("R$ 1.234,5", 1234.5), ("12.345.678,90", 12345678.9), (" 99,90 ", 99.9)],
)  # fmt: skip
def test_price_formats_are_accepted(price: str, expected: float) -> None:
    assert _valid(monthly_price=price).monthly_price == pytest.approx(expected)


@pytest.mark.parametrize("price", ["", "0", "0,00", "-10", "abc", "1,234.56", "12,34,5", "inf"])
def test_price_that_is_not_a_positive_number_is_rejected(price: str) -> None:
    assert _reason(monthly_price=price) == R.INVALID_PRICE


@pytest.mark.parametrize("period", ["", "2025.1", "x"])
def test_capture_period_that_is_not_a_whole_number_is_rejected(period: str) -> None:
    assert _reason(capture_period=period) == R.INVALID_CAPTURE_PERIOD


def test_modality_is_case_insensitive_and_canonical() -> None:
    assert _valid(modality="ead").modality == "EAD"
    assert _valid(modality=" SEMIPRESENCIAL ").modality == "Semipresencial"
    assert _reason(modality="Híbrido") == R.INVALID_MODALITY
    assert _reason(modality="") == R.INVALID_MODALITY


def test_known_modalities_are_configurable() -> None:
    result = normalise([row(modality="híbrido")], known_modalities=frozenset({"Híbrido"}))
    assert result.valid.modality[0] == "Híbrido"


def test_system_must_be_one_of_krotons_four() -> None:
    assert _valid(system="colaborar").system == "COLABORAR"
    assert _valid(system="Athenas").system == "ATHENAS"
    assert _valid(system="SAP").system == "SAP"
    assert _reason(system="XPTO") == R.INVALID_SYSTEM
    assert _reason(system=None) == R.INVALID_SYSTEM


# --- priority and duplicates -----------------------------------------------------------


def test_reason_priority_is_cpf_name_birthday_email_phone_course() -> None:
    broken = {
        "cpf": "1",
        "user_name": "",
        "birthday": "x",
        "email": "x",
        "phone_number": "x",
        "unit_id": "x",
        "system": "x",
    }
    order = ["cpf", "user_name", "birthday", "email", "phone_number", "unit_id", "system"]
    expected = [R.INVALID_CPF, R.MISSING_NAME, R.INVALID_BIRTHDAY, R.INVALID_EMAIL,
                R.INVALID_PHONE, R.INVALID_UNIT_ID, R.INVALID_SYSTEM]  # fmt: skip
    for i, reason in enumerate(expected):
        assert _reason(**{k: broken[k] for k in order[i:]}) == reason


def test_later_duplicate_cpf_in_file_is_rejected_and_first_kept() -> None:
    rows = [row(user_name="Primeira"), row(cpf="37845760870", user_name="Segunda"), row()]
    result = normalise(rows)
    assert result.valid.user_name.tolist() == ["Primeira"]
    assert result.rejected.reason.tolist() == [R.DUPLICATE_CPF_IN_FILE] * 2
    assert result.rejected.detail.tolist() == ["same cpf as row 1"] * 2
    assert result.rejected.row_number.tolist() == [2, 3]


def test_duplicate_of_an_invalid_row_keeps_the_first_valid_occurrence() -> None:
    rows = [row(birthday="x"), row(user_name="Valid"), row()]
    result = normalise(rows)
    assert result.valid.row_number.tolist() == [2]
    assert result.rejected.reason.tolist() == [R.INVALID_BIRTHDAY, R.DUPLICATE_CPF_IN_FILE]


def test_first_occurrence_is_by_row_number_not_frame_order() -> None:
    df = export_frame([row(user_name="Late"), row(user_name="Early")])
    df["row_number"] = [9, 4]
    result = normalise_leads(df, import_date=IMPORT_DATE, rules=RULES)
    assert result.valid.user_name.tolist() == ["Early"]
    assert result.rejected.row_number.tolist() == [9]


def test_rules_come_from_business_rules() -> None:
    from kroton_pipeline.settings import BusinessRules

    rules = BusinessRules(min_age=18)
    result = normalise([row(birthday="2008-01-01")], rules=rules, import_date=date(2025, 1, 15))
    assert result.rejected.reason.tolist() == [R.AGE_OUT_OF_RANGE]
    assert result.rejected.detail.tolist() == ["age outside 18-100 years"]
