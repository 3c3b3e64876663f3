"""Endpoint paths (one place) and the three CPF look-ups shared by Kroton and Captação.

The Captação API serves the same look-ups under its own base URL and token, so a deployment
can route look-ups through it (``KrotonResource.lookups_via_captacao``).
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import quote

from kroton_pipeline.clients.models import (
    InscricaoStatus,
    InscricoesByCpf,
    MatriculasByCpf,
    parse_answer,
)
from kroton_pipeline.clients.redaction import mask_cpf
from kroton_pipeline.clients.transport import Authenticator, Transport

# Endpoint names match the sandbox's fault-injection names and the counters' keys.
PATHS: dict[str, str] = {
    "token": "/oauth2/token",
    "captacao_login": "/auth/login",
    "inscricoes_by_cpf": "/ms/inscricaocqrs/captacao/v5/inscricao/cpf/{cpf}",
    "matriculas_by_cpf": "/ms/matricula/captacao/v1/ms/matricula/candidato/cpf/{cpf}",
    "inscricao_status": "/ms/inscricao/v4/captacao/inscricao/{inscricao}/sistema/{sistema}",
    "register": "/ms/inscricao/v4/captacao/inscricao",
    "catalog_search": "/elasticlayer/middleware/oferta/_search",
}


def normalise_cpf(cpf: str) -> str:
    """11 digits, or ``ValueError`` (the message does not repeat the value)."""
    digits = re.sub(r"\D", "", str(cpf))
    if len(digits) != 11:
        raise ValueError("a CPF must have 11 digits")
    return digits


class CpfLookups(Protocol):
    """What the pipeline needs to check a CPF at Kroton, whichever API answers."""

    def inscriptions_by_cpf(self, cpf: str) -> InscricoesByCpf: ...
    def enrolments_by_cpf(self, cpf: str) -> MatriculasByCpf: ...
    def inscription_status(self, inscricao_id: str, sistema: str) -> InscricaoStatus: ...


class CpfLookupMethods:
    """The look-ups, over ``self._transport`` and ``self._auth``."""

    _transport: Transport
    _auth: Authenticator

    def inscriptions_by_cpf(self, cpf: str) -> InscricoesByCpf:
        """Every inscription Kroton holds for ``cpf`` (an empty list when none)."""
        digits = normalise_cpf(cpf)
        body = self._get("inscricoes_by_cpf", mask_cpf(digits), cpf=digits)
        return parse_answer(InscricoesByCpf, body, self._name("inscricoes_by_cpf"))

    def enrolments_by_cpf(self, cpf: str) -> MatriculasByCpf:
        """Every enrolment (matrícula) Kroton holds for ``cpf``."""
        digits = normalise_cpf(cpf)
        body = self._get("matriculas_by_cpf", mask_cpf(digits), cpf=digits)
        return parse_answer(MatriculasByCpf, body, self._name("matriculas_by_cpf"))

    def inscription_status(self, inscricao_id: str, sistema: str) -> InscricaoStatus:
        """Processing state and classification of one inscription; ``NotFound`` if unknown."""
        body = self._get(
            "inscricao_status", f"inscricao {inscricao_id}", inscricao=inscricao_id, sistema=sistema
        )
        return parse_answer(InscricaoStatus, body, self._name("inscricao_status"))

    def _name(self, endpoint: str) -> str:
        return f"{self._transport.system}.{endpoint}"

    def _get(self, endpoint: str, subject: str, **params: str) -> object:
        path = PATHS[endpoint].format(**{k: quote(v, safe="") for k, v in params.items()})
        return self._transport.call(endpoint, "GET", path, auth=self._auth, subject=subject)
