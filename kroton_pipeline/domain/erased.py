"""What an erased person looks like in the database (LGPD): pure rules, no I/O.

An erased subscription keeps its row (status, dates, course) but its CPF becomes
:func:`erased_cpf`, its name :data:`ERASED_NAME`, and every stored Kroton document loses the
keys that hold personal data (:func:`scrub_document`).
"""

from __future__ import annotations

from typing import Any

from kroton_pipeline.domain.leads import scrub

ERASED_NAME = "ERASED"
# An erased CPF is this letter and the subscription id: never a valid CPF, still 11 characters.
ERASED_CPF_PREFIX = "X"
# Keys of Kroton's answers (and of our payloads) that hold personal data, lower-cased.
PERSONAL_KEYS = frozenset(
    {
        "cpf", "nome", "name", "email", "celular", "telefone", "phone", "datanascimento",
        "birthday", "birth_date", "endereco", "address", "cep", "logradouro", "numero", "rg",
        "dadospessoais", "nomesocial", "mae", "nomemae", "nome_mae", "ra", "businesskey",
    }
)  # fmt: skip


def erased_cpf(subscription_id: int) -> str:
    """The CPF column's value after erasure: ``"X"`` + the id, 11 characters in all."""
    return f"{ERASED_CPF_PREFIX}{subscription_id:010d}"


def is_erased(cpf: str | None) -> bool:
    """Whether a CPF column's value is an erased person's (:func:`erased_cpf`)."""
    return bool(cpf) and str(cpf).startswith(ERASED_CPF_PREFIX)


def scrub_document(value: Any) -> Any:
    """A copy of a JSON document without personal keys, with its texts scrubbed."""
    if isinstance(value, dict):
        return {
            key: scrub_document(item)
            for key, item in value.items()
            if str(key).lower() not in PERSONAL_KEYS
        }
    if isinstance(value, list):
        return [scrub_document(item) for item in value]
    if isinstance(value, str):
        return scrub(value)
    return value
