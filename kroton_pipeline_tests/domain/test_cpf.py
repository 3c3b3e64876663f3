"""CPF rules, checked against validate-docbr (the reference)."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from faker import Faker
from validate_docbr import CPF

from kroton_pipeline.domain.leads import (
    cpf_check_column,
    cpf_check_digits,
    cpf_digits,
    cpf_digits_column,
    format_cpf,
    is_valid_cpf,
)


def _vectorised_valid(values: list[str | None]) -> list[bool]:
    digits = cpf_digits_column(pd.Series(values, dtype="str"))
    repeated, check_ok = cpf_check_column(digits)
    return list(check_ok & ~repeated)


def _cpf_test_rows() -> list[str]:
    fake = Faker("pt_BR")
    fake.seed_instance(11)
    rnd = random.Random(11)
    rows = []
    for _ in range(2000):
        good = fake.cpf()
        digits = good.replace(".", "").replace("-", "")
        rows += [good, digits]
        # Wrong check digit, swapped digits, random digits.
        rows.append(digits[:10] + str((int(digits[10]) + 1) % 10))
        rows.append(digits[:9] + digits[10] + digits[9])
        rows.append("".join(rnd.choice("0123456789") for _ in range(11)))
    rows += [d * 11 for d in "0123456789"] + ["000.000.000-00", "111.111.111-11"]
    return rows


def test_vectorised_cpf_check_agrees_with_validate_docbr() -> None:
    rows = _cpf_test_rows()
    docbr = CPF()
    expected = [docbr.validate(value) for value in rows]
    assert _vectorised_valid(rows) == expected
    assert [is_valid_cpf(value) for value in rows] == expected
    assert sum(expected) > len(rows) / 3  # the sample holds plenty of both kinds


def test_cpf_with_wrong_check_digit_is_rejected() -> None:
    assert is_valid_cpf("37845760870")
    assert not is_valid_cpf("37845760871")
    assert not is_valid_cpf("37845760880")
    assert _vectorised_valid(["37845760871", "37845760880"]) == [False, False]


def test_check_digits_complete_the_first_nine_digits() -> None:
    assert cpf_check_digits("378457608") == "70"
    docbr = CPF()
    assert all(docbr.validate(base + cpf_check_digits(base)) for base in ("123456789", "000000191"))


def test_cpf_with_all_digits_equal_is_rejected() -> None:
    assert _vectorised_valid(["11111111111", "000.000.000-00"]) == [False, False]


@pytest.mark.parametrize("value", ["378.457.608-70", "378457608-70", " 378 457 608 70 "])
def test_cpf_punctuation_and_spaces_are_removed(value: str) -> None:
    assert cpf_digits(value) == "37845760870"
    assert _vectorised_valid([value]) == [True]


@pytest.mark.parametrize(
    "value", ["7845760870", "0037845760870", "378/457/608-70", "abc", "", None]
)
def test_cpf_without_exactly_11_digits_is_rejected_not_padded(value: str | None) -> None:
    # validate-docbr pads short CPFs with zeros; we refuse to guess lost digits.
    assert cpf_digits(value) is None
    assert _vectorised_valid([value]) == [False]


def test_format_cpf_adds_kroton_punctuation() -> None:
    assert format_cpf("37845760870") == "378.457.608-70"
