"""Phone rules, checked against libphonenumber (the reference)."""

from __future__ import annotations

import random

import pandas as pd
import phonenumbers
import pytest
from faker import Faker
from phonenumbers import PhoneNumberType

from kroton_pipeline.domain.leads import (
    VALID_DDDS,
    is_valid_phone,
    phone_valid_column,
    split_phone,
    split_phone_columns,
)

_GEOGRAPHIC = {
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def _libphonenumber_says_valid(ddd: str, number: str) -> bool:
    """Valid, geographic, and read as the same DDD + number we read."""
    try:
        parsed = phonenumbers.parse("+55" + ddd + number)
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(parsed)
        and phonenumbers.number_type(parsed) in _GEOGRAPHIC
        and str(parsed.national_number) == ddd + number
    )


def _phone_test_rows() -> list[tuple[str | None, str | None]]:
    fake = Faker("pt_BR")
    fake.seed_instance(7)
    rnd = random.Random(7)
    rows: list[tuple[str | None, str | None]] = []
    for _ in range(1500):
        rows += [("", fake.phone_number()), ("", fake.cellphone_number()), ("", fake.msisdn())]
        ddd = rnd.choice(sorted(VALID_DDDS))
        rows.append((ddd, "".join(rnd.choice("0123456789") for _ in range(rnd.choice([8, 9])))))
        rows.append((f"{rnd.randint(10, 99)}", f"9{rnd.randint(0, 99999999):08d}"))
    rows += [
        ("11", "975405666"), ("11", "32345678"), ("11", "72345678"), ("11", "62345678"),
        ("11", "12345678"), ("11", "875405666"), ("10", "975405666"), ("20", "975405666"),
        ("23", "32345678"), ("", "(11) 97540-5666"), ("", "+55 11 97540-5666"),
        ("", "011 97540-5666"), ("011", "975405666"), ("+55 11", "975405666"),
        ("11", "11975405666"), ("11", "21975405666"), ("", "0800 123 4567"),
        ("", "4004-1234"), ("", "0300 313 4701"), ("", "975405666"), ("", ""),
        (None, None), ("1", "1975405666"), ("", "5511975405666"), ("", "55975405666"),
    ]  # fmt: skip
    return rows


def test_phone_rule_agrees_with_phonenumbers_on_every_test_row() -> None:
    rows = _phone_test_rows()
    ddd, number = split_phone_columns(
        pd.Series([a for a, _ in rows], dtype="str"), pd.Series([n for _, n in rows], dtype="str")
    )
    valid = phone_valid_column(ddd, number)
    expected = [_libphonenumber_says_valid(d, n) for d, n in zip(ddd, number, strict=True)]
    assert list(valid) == expected
    assert 0.2 < sum(expected) / len(expected) < 0.8


def test_vectorised_phone_split_matches_scalar_split() -> None:
    rows = _phone_test_rows()
    ddd, number = split_phone_columns(
        pd.Series([a for a, _ in rows], dtype="str"), pd.Series([n for _, n in rows], dtype="str")
    )
    assert list(zip(ddd, number, strict=True)) == [split_phone(a, n) for a, n in rows]


def test_there_are_67_valid_ddds() -> None:
    assert len(VALID_DDDS) == 67
    assert {"11", "21", "61", "99"} <= VALID_DDDS
    assert not {"10", "20", "23", "30", "50", "90"} & VALID_DDDS


@pytest.mark.parametrize(
    ("area", "number", "expected"),
    [
        ("", "(11) 97540-5666", ("11", "975405666")),
        ("", "+55 (11) 97540-5666", ("11", "975405666")),
        ("", "011 3234-5678", ("11", "32345678")),
        ("011", "97540-5666", ("11", "975405666")),
        ("11", "(11) 97540-5666", ("11", "975405666")),
        ("", "55 11 97540-5666", ("11", "975405666")),
    ],
)
def test_phone_country_code_trunk_zero_and_ddd_are_split_off(
    area: str, number: str, expected: tuple[str, str]
) -> None:
    assert split_phone(area, number) == expected


def test_nine_digit_phone_must_start_with_9() -> None:
    assert is_valid_phone("11", "975405666")
    assert not is_valid_phone("11", "875405666")


def test_eight_digit_phone_must_be_a_landline_or_legacy_mobile() -> None:
    assert is_valid_phone("11", "32345678")
    assert is_valid_phone("11", "72345678")
    assert not is_valid_phone("11", "92345678")
    assert not is_valid_phone("11", "12345678")


def test_phone_with_unknown_ddd_is_invalid() -> None:
    assert not is_valid_phone("20", "975405666")
