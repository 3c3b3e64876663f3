"""Validation of the registration payload, as Kroton's 422 answers describe it.

Error messages name the field and the rule, never the value (it is personal data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from kroton_pipeline.sandbox.catalog import Catalog

REQUIRED_TEXT = (
    "dadosPessoais.celular",
    "dadosPessoais.cpf",
    "dadosPessoais.dataNascimento",
    "dadosPessoais.email",
    "dadosPessoais.nome",
    "dadosPessoais.sexo",
    "dadosPessoais.endereco.cep",
    "dadosPessoais.endereco.logradouro",
    "dadosPessoais.endereco.municipio",
    "dadosPessoais.endereco.numero",
    "dadosPessoais.endereco.uf",
    "inscricao.idAfiliado",
    "inscricao.ofertas.primeiraOpcao.id",
)
REQUIRED_NUMBER = ("inscricao.canalVendas.id", "inscricao.idTipoProva")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def cpf_digits(cpf: str) -> str:
    """The CPF's digits only (punctuation dropped)."""
    return re.sub(r"\D", "", cpf)


def cpf_is_valid(cpf: str) -> bool:
    """True when ``cpf`` has 11 digits, not all equal, with correct check digits."""
    digits = cpf_digits(cpf)
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    for size in (9, 10):
        total = sum(int(d) * (size + 1 - i) for i, d in enumerate(digits[:size]))
        check = (total * 10) % 11 % 10
        if check != int(digits[size]):
            return False
    return True


def field(payload: Any, dotted: str) -> Any:
    """Value at a dotted path, or None when any part is missing."""
    current = payload
    for part in dotted.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def validate_registration(payload: Any, catalog: Catalog, today: date) -> list[str]:
    """Every problem with a registration payload (empty when it is acceptable)."""
    if not isinstance(payload, Mapping):
        return ["body: deve ser um objeto JSON"]
    errors = [
        f"{name}: campo obrigatório"
        for name in REQUIRED_TEXT
        if not isinstance(field(payload, name), str) or not field(payload, name).strip()
    ]
    errors += [
        f"{name}: campo obrigatório numérico"
        for name in REQUIRED_NUMBER
        if not isinstance(field(payload, name), int) or isinstance(field(payload, name), bool)
    ]
    missing = {e.split(":")[0] for e in errors}

    def check(name: str, ok: bool, message: str) -> None:
        if name not in missing and not ok:
            errors.append(f"{name}: {message}")

    text = {name: str(field(payload, name) or "") for name in REQUIRED_TEXT}
    check("dadosPessoais.cpf", cpf_is_valid(text["dadosPessoais.cpf"]), "CPF inválido")
    check("dadosPessoais.sexo", text["dadosPessoais.sexo"] in ("M", "F"), "deve ser M ou F")
    check("dadosPessoais.email", bool(_EMAIL.match(text["dadosPessoais.email"])), "e-mail inválido")
    phone = cpf_digits(text["dadosPessoais.celular"])
    check("dadosPessoais.celular", len(phone) in (10, 11), "deve ter DDD e número")
    check(
        "dadosPessoais.dataNascimento",
        _birth_ok(text["dadosPessoais.dataNascimento"], today),
        "data inválida (AAAA-MM-DD, entre 1900 e hoje)",
    )
    check(
        "dadosPessoais.endereco.cep",
        len(cpf_digits(text["dadosPessoais.endereco.cep"])) == 8,
        "CEP deve ter 8 dígitos",
    )
    check(
        "dadosPessoais.endereco.uf",
        bool(re.fullmatch(r"[A-Z]{2}", text["dadosPessoais.endereco.uf"])),
        "UF inválida",
    )
    needs = field(payload, "dadosPessoais.necessidadesEspeciais")
    if needs is not None and not isinstance(needs, list):
        errors.append("dadosPessoais.necessidadesEspeciais: deve ser uma lista")
    errors += _offer_errors(payload, catalog, today, missing)
    return errors


def _birth_ok(value: str, today: date) -> bool:
    try:
        born = date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10 and date(1900, 1, 1) <= born <= today


def _offer_errors(payload: Any, catalog: Catalog, today: date, missing: set[str]) -> list[str]:
    errors = []
    chosen = []
    for option in ("primeiraOpcao", "segundaOpcao"):
        name = f"inscricao.ofertas.{option}.id"
        if name in missing:
            continue
        if option == "segundaOpcao" and field(payload, f"inscricao.ofertas.{option}") is None:
            continue  # the second option is optional
        offer_id = field(payload, name)
        offer = catalog.by_id.get(offer_id) if isinstance(offer_id, str) else None
        if offer is None:
            errors.append(f"{name}: oferta inexistente")
        elif not offer["ativa"]:
            errors.append(f"{name}: oferta inativa")
        elif not catalog.is_open(offer, today):
            errors.append(f"{name}: inscrições encerradas para a oferta")
        else:
            chosen.append(offer_id)
    if len(chosen) == 2 and chosen[0] == chosen[1]:
        errors.append("inscricao.ofertas.segundaOpcao.id: igual à primeira opção")
    return errors
