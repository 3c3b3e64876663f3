"""What the pipeline's steps need from Kroton, as a typed interface.

:class:`~kroton_pipeline.clients.kroton.KrotonClient` implements it over HTTP (its look-ups
optionally through the Captação API); tests and tools may pass anything with the same
methods. Every method returns a view of :mod:`kroton_pipeline.domain.kroton_answers`, never
a raw answer, and raises a :class:`~kroton_pipeline.clients.errors.KrotonError` on failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from kroton_pipeline.clients.counters import ClientCounters
from kroton_pipeline.domain.kroton_answers import (
    Enrolments,
    InscriptionsAnswer,
    RegistrationAnswer,
)


class CpfLookups(Protocol):
    """The look-ups by CPF and by inscription id, whichever API answers them."""

    def inscriptions_by_cpf(self, cpf: str) -> InscriptionsAnswer: ...

    def enrolments_by_cpf(self, cpf: str) -> Enrolments: ...

    def inscription_status(self, inscricao_id: str, sistema: str | None) -> InscriptionsAnswer: ...


class KrotonApi(CpfLookups, Protocol):
    """The look-ups plus the registration POST, and the run's counters."""

    counters: ClientCounters

    def register(
        self, payload: Mapping[str, Any], before_send: Callable[[], None] | None = None
    ) -> RegistrationAnswer: ...
