"""The body of Kroton's registration POST (the design document's EnrollmentPayload, plus
the fields production integrations send when ``BusinessRules.payload_extras`` is on).

The builder re-checks what Kroton would refuse (a 422 costs a request of the rate budget and
ends the lead as ``register_failed``), and raises :class:`PayloadError` naming the field,
never its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from kroton_pipeline.domain.cpf import format_cpf, is_valid_cpf
from kroton_pipeline.settings import BusinessRules

_NON_DIGITS = re.compile(r"[^0-9]")


class PayloadError(ValueError):
    """A lead cannot be turned into a valid payload; ``field`` names the payload field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


def build_enrolment_payload(
    lead: Mapping[str, Any],
    first_offer_id: str,
    second_offer_id: str | None,
    rules: BusinessRules,
) -> dict[str, Any]:
    """Kroton's EnrollmentPayload for one lead and its chosen offers.

    ``lead`` has the ``subscriptions`` column names: user_name, cpf, gender, birthday (date,
    datetime, pandas Timestamp or ISO string), email, area_code, phone_number, cep, street,
    number, city, uf. ``segundaOpcao`` is omitted when ``second_offer_id`` is None.
    """
    cpf = _digits(lead.get("cpf"))
    if not is_valid_cpf(cpf):
        raise PayloadError("dadosPessoais.cpf", "must be a valid CPF")
    area, phone = _digits(lead.get("area_code")), _digits(lead.get("phone_number"))
    if len(area) != 2 or len(phone) not in (8, 9):
        raise PayloadError("dadosPessoais.celular", "must be a 2-digit DDD and 8-9 digits")
    cep = _digits(lead.get("cep"))
    if len(cep) != 8:
        raise PayloadError("dadosPessoais.endereco.cep", "must have 8 digits")
    sexo = _text(lead.get("gender")).upper()
    if sexo not in ("M", "F"):
        if rules.gender_unknown_policy != "send":
            raise PayloadError("dadosPessoais.sexo", "must be M or F")
        sexo = rules.gender_unknown_send_as  # the policy: send what Kroton accepts
    uf = _text(lead.get("uf")).upper()
    if not re.fullmatch(r"[A-Z]{2}", uf):
        raise PayloadError("dadosPessoais.endereco.uf", "must be two letters")
    if not _text(first_offer_id):
        raise PayloadError("inscricao.ofertas.primeiraOpcao.id", "is required")

    ofertas: dict[str, Any] = {"primeiraOpcao": {"id": str(first_offer_id)}}
    if second_offer_id is not None:
        if not _text(second_offer_id):
            raise PayloadError("inscricao.ofertas.segundaOpcao.id", "must not be empty")
        ofertas["segundaOpcao"] = {"id": str(second_offer_id)}

    payload: dict[str, Any] = {
        "dadosPessoais": {
            "celular": area + phone,
            "cpf": format_cpf(cpf),
            "dataNascimento": _iso_date(lead.get("birthday")),
            "email": _required(lead, "email", "dadosPessoais.email"),
            "endereco": {
                "cep": f"{cep[:5]}-{cep[5:]}",
                "logradouro": _required(lead, "street", "dadosPessoais.endereco.logradouro"),
                "municipio": _required(lead, "city", "dadosPessoais.endereco.municipio"),
                "numero": _required(lead, "number", "dadosPessoais.endereco.numero"),
                "uf": uf,
            },
            "necessidadesEspeciais": [],
            "nome": _required(lead, "user_name", "dadosPessoais.nome"),
            "rg": rules.rg_placeholder,
            "sexo": sexo,
        },
        "inscricao": {
            "canalVendas": {"id": rules.sales_channel_id},
            "idAfiliado": rules.affiliate_id,
            "idTipoProva": rules.exam_type_id,
            "ofertas": ofertas,
        },
    }
    if rules.payload_extras:
        _add_extras(payload, lead, rules)
    return payload


def completion_year(birthday: Any, rules: BusinessRules, today: date | None = None) -> int:
    """``anoConclusao``: the configured year, else the year the lead turned 18 (at most
    last year: nobody applies before finishing school)."""
    if rules.completion_year:
        return rules.completion_year
    this_year = (today or date.today()).year
    born = int(_iso_date(birthday)[:4])
    return min(born + 18, this_year - 1)


def _add_extras(payload: dict[str, Any], lead: Mapping[str, Any], rules: BusinessRules) -> None:
    inscricao = payload["inscricao"]
    inscricao["aceiteTermo"] = rules.accept_terms
    inscricao["aceitaReceberEmail"] = rules.accept_email
    inscricao["aceitaReceberSMS"] = rules.accept_sms
    inscricao["aceitaReceberWhatsApp"] = rules.accept_whatsapp
    inscricao["anoConclusao"] = completion_year(lead.get("birthday"), rules)
    inscricao["enem"] = {"utilizar": rules.use_enem}
    payload["dadosPessoais"]["endereco"]["bairro"] = rules.neighbourhood_placeholder


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _digits(value: Any) -> str:
    return _NON_DIGITS.sub("", _text(value))


def _required(lead: Mapping[str, Any], key: str, field: str) -> str:
    value = _text(lead.get(key))
    if not value:
        raise PayloadError(field, "is required")
    return value


def _iso_date(value: Any) -> str:
    """``YYYY-MM-DD`` from a date, datetime, Timestamp, numpy datetime64 or ISO string."""
    field = "dadosPessoais.dataNascimento"
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if value is pd.NaT or value is None:
        raise PayloadError(field, "is required")
    if isinstance(value, datetime):  # includes pandas Timestamp
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            raise PayloadError(field, "must be an ISO date (YYYY-MM-DD)") from None
    raise PayloadError(field, "must be a date")
