"""Export rows for the domain tests: one known-good row and Faker pt_BR rows."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from faker import Faker

from kroton_pipeline.domain.leads import REQUIRED_COLUMNS, NormalisedLeads, normalise_leads
from kroton_pipeline.settings import BusinessRules

IMPORT_DATE = date(2025, 1, 15)
RULES = BusinessRules()

GOOD_ROW: dict[str, str] = {
    "cpf": "378.457.608-70",
    "user_name": "Mauricio Matsoui",
    "gender": "M",
    "birthday": "1989-08-31",
    "email": "mauricio.matsoui@redealumni.com",
    "area_code": "11",
    "phone_number": "975405666",
    "cep": "12243-740",
    "street": "Rua Pedro de Toledo",
    "number": "48",
    "city": "São José dos Campos",
    "uf": "SP",
    "course_name": "Direito",
    "unit_id": "1093731",
    "course_type": "Graduação",
    "modality": "Presencial",
    "monthly_price": "899.90",
    "capture_period": "202501",
    "system": "OLIMPO",
    "campus": "Centro",
}


def row(**overrides: Any) -> dict[str, Any]:
    """The good row with some fields replaced (None = empty cell)."""
    return {**GOOD_ROW, **overrides}


def export_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as the import reads them: every column text, plus a 1-based row_number."""
    df = pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS)).astype("str")
    df["row_number"] = range(1, len(df) + 1)
    return df


def normalise(rows: list[dict[str, Any]], **kwargs: Any) -> NormalisedLeads:
    kwargs.setdefault("import_date", IMPORT_DATE)
    kwargs.setdefault("rules", RULES)
    return normalise_leads(export_frame(rows), **kwargs)


def faker_rows(count: int, seed: int = 2025) -> list[dict[str, Any]]:
    """Realistic (and sometimes invalid) export rows made by Faker pt_BR."""
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    rows = []
    for i in range(count):
        phone = fake.cellphone_number() if i % 2 else fake.phone_number()
        rows.append(
            row(
                cpf=fake.cpf() if i % 3 else fake.cpf().replace(".", "").replace("-", ""),
                user_name=fake.name(),
                gender=fake.random_element(["M", "F", "", "feminino", "Masculino"]),
                birthday=fake.date_of_birth(minimum_age=10, maximum_age=110).isoformat(),
                email=fake.email() if i % 2 else fake.free_email(),
                area_code="",
                phone_number=phone,
                cep=fake.postcode(),
                street=fake.street_name(),
                number=fake.building_number(),
                city=fake.city(),
                uf=fake.estado_sigla(),
            )
        )
    return rows
