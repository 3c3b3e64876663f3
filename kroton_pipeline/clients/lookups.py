"""The three CPF look-ups shared by Kroton's main API and the Captação API.

The Captação API serves the same look-ups under its own base URL and token, so a deployment
can route look-ups through it (``KrotonResource.lookups_via_captacao``). Paths, the CPF's
form in the URL and what a 404 means come from :class:`~kroton_pipeline.settings.KrotonApiFormat`;
every answer is read once into the views of :mod:`kroton_pipeline.domain.kroton_answers`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from kroton_pipeline.clients.errors import MalformedResponse, NotFound
from kroton_pipeline.clients.redaction import mask_cpf
from kroton_pipeline.clients.transport import Authenticator, Transport
from kroton_pipeline.domain.cpf import format_cpf
from kroton_pipeline.domain.kroton_answers import (
    AnswerShapeError,
    Enrolments,
    InscriptionsAnswer,
    parse_enrolments,
    parse_inscription_state,
    parse_inscriptions,
)
from kroton_pipeline.settings import KrotonApiFormat

V = TypeVar("V")


class InvalidCpf(ValueError):
    """A CPF that does not have 11 digits (the message does not repeat the value)."""


def normalise_cpf(cpf: str) -> str:
    """11 digits, or :class:`InvalidCpf`."""
    digits = re.sub(r"\D", "", str(cpf))
    if len(digits) != 11:
        raise InvalidCpf("a CPF must have 11 digits")
    return digits


def read_answer(parse: Callable[[Any], V], body: Any, endpoint: str) -> V:
    """Read an answer into its view; :class:`MalformedResponse` (fields named, no values)."""
    try:
        return parse(body)
    except AnswerShapeError as exc:
        raise MalformedResponse(
            f"{endpoint}: answer does not have a known shape ({exc})", endpoint=endpoint
        ) from None


class CpfLookupMethods:
    """The look-ups, over ``self._transport``, ``self._auth``, ``self._format``."""

    _transport: Transport
    _auth: Authenticator
    _format: KrotonApiFormat
    _headers: dict[str, str]

    def inscriptions_by_cpf(self, cpf: str) -> InscriptionsAnswer:
        """Every inscription Kroton holds for ``cpf`` (none: an empty answer)."""
        digits = normalise_cpf(cpf)
        body = self._get(
            "inscricoes_by_cpf",
            self._format.inscriptions_by_cpf_path,
            mask_cpf(digits),
            none_on_404=self._format.lookup_404_is_empty,
            cpf=self._cpf_in_url(digits),
        )
        return read_answer(
            parse_inscriptions, [] if body is None else body, self._name("inscricoes_by_cpf")
        )

    def enrolments_by_cpf(self, cpf: str) -> Enrolments:
        """Every enrolment (matrícula) Kroton holds for ``cpf``."""
        digits = normalise_cpf(cpf)
        body = self._get(
            "matriculas_by_cpf",
            self._format.enrolments_by_cpf_path,
            mask_cpf(digits),
            none_on_404=self._format.lookup_404_is_empty,
            cpf=self._cpf_in_url(digits),
        )
        return read_answer(
            parse_enrolments, [] if body is None else body, self._name("matriculas_by_cpf")
        )

    def inscription_status(self, inscricao_id: str, sistema: str | None) -> InscriptionsAnswer:
        """Processing state and classification of one inscription; ``NotFound`` if unknown."""
        body = self._get(
            "inscricao_status",
            self._format.inscription_status_path,
            f"inscricao {inscricao_id}",
            inscricao=str(inscricao_id),
            sistema=sistema or "",
        )
        return read_answer(parse_inscription_state, body, self._name("inscricao_status"))

    def _cpf_in_url(self, digits: str) -> str:
        return format_cpf(digits) if self._format.cpf_in_url == "punctuated" else digits

    def _name(self, endpoint: str) -> str:
        return f"{self._transport.system}.{endpoint}"

    def _get(
        self, endpoint: str, template: str, subject: str, none_on_404: bool = False, **params: str
    ) -> Any:
        path = template.format(**{k: quote(v, safe="") for k, v in params.items()})
        try:
            return self._transport.call(
                endpoint,
                "GET",
                path,
                auth=self._auth,
                headers=self._headers,
                subject=subject,
                timeout=self._format.lookup_timeout_seconds,
            )
        except NotFound:
            if none_on_404:
                return None
            raise
