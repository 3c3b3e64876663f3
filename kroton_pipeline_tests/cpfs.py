"""Valid CPFs for tests, made with the product's own check-digit rule (domain.leads)."""

from __future__ import annotations

from kroton_pipeline.domain.leads import cpf_check_digits


def make_cpf(base: int) -> str:
    """A valid CPF (digits only) built from a 9-digit base."""
    nine = f"{base:09d}"
    return nine + cpf_check_digits(nine)
