"""First-name key and gender spellings."""

from __future__ import annotations

import pandas as pd
import pytest
from faker import Faker

from kroton_pipeline.domain.leads import (
    GENDER_UNKNOWN,
    first_name_key,
    first_name_keys,
    normalise_gender,
    normalise_genders,
)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("João da Silva", "joao"),
        ("  JOSÉ  ", "jose"),
        ("Dra. Maria-José Souza", "mariajose"),
        ("Sr.  Ícaro", "icaro"),
        ("Çâmara", "camara"),
        ("ana\u00a0paula", "ana"),
        ("", ""),
        (None, ""),
    ],
)
def test_first_name_key_is_first_word_lower_case_without_accents(name: str, key: str) -> None:
    assert first_name_key(name) == key
    assert first_name_keys(pd.Series([name], dtype="str")).tolist() == [key]


def test_vectorised_first_name_keys_match_the_scalar_rule_on_faker_names() -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(3)
    names = [fake.name() for _ in range(3000)] + [fake.first_name().upper() for _ in range(300)]
    assert first_name_keys(pd.Series(names, dtype="str")).tolist() == [
        first_name_key(n) for n in names
    ]


def test_gender_spellings_map_to_m_or_f() -> None:
    values = ["m", "F", " Masculino ", "feminino", "MALE", "female", "masc", "fem", "NI", "", None]
    expected = ["M", "F", "M", "F", "M", "F", "M", "F", None, None, None]
    assert [normalise_gender(v) for v in values] == expected
    assert normalise_genders(pd.Series(values, dtype="str")).tolist() == expected


def test_unknown_gender_marker_is_ni() -> None:
    assert GENDER_UNKNOWN == "NI"
