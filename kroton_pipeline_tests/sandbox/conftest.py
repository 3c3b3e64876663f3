"""Fixtures for the sandbox's contract tests: a fresh in-process server per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from kroton_pipeline.sandbox import SandboxServer, preseeded_kind
from kroton_pipeline.sandbox import lifecycle as lc
from kroton_pipeline.sandbox.catalog import Catalog
from kroton_pipeline.sandbox.clock import SandboxClock
from kroton_pipeline_tests.cpfs import make_cpf

SEED = 7
SUBSCRIPTION = {"Ocp-Apim-Subscription-Key": "sandbox-subscription"}
TOKEN_FORM = {
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "grant_type": "client_credentials",
    "scope": "sandbox-subscription",
}
CATALOG_AUTH = {"Authorization": "apiKey sandbox-api-key"}
SEARCH_PATH = "/elasticlayer/middleware/oferta/_search"
REGISTER_PATH = "/ms/inscricao/v4/captacao/inscricao"
CQRS_PATH = "/ms/inscricaocqrs/captacao/v5/inscricao/cpf/{}"
MATRICULA_PATH = "/ms/matricula/captacao/v1/ms/matricula/candidato/cpf/{}"
STATUS_PATH = "/ms/inscricao/v4/captacao/inscricao/{}/sistema/{}"


def find_cpf(predicate: Callable[[lc.Inscription], bool], start: int = 123_456_000) -> str:
    """First valid, not pre-seeded CPF whose first registration satisfies ``predicate``."""
    for base in range(start, start + 100_000):
        cpf = make_cpf(base)
        if preseeded_kind(SEED, cpf) is not None:
            continue
        probe = lc.Inscription("0", cpf, "OLIMPO", "", "", [], "", 0.0)
        if predicate(probe):
            return cpf
    raise AssertionError("no CPF found")


def open_offer_pair() -> list[dict[str, Any]]:
    """Two open offers of the same search (what the pipeline would register)."""
    catalog, today = Catalog(), SandboxClock().today()
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for offer in catalog.offers:
        if catalog.is_open(offer, today):
            key = (offer["dsCurso"], offer["idUnidadeOrigem"], offer["vlMensalidadeDe"])
            groups.setdefault(key, []).append(offer)
    return next(g[:2] for g in groups.values() if len(g) >= 2)


def registration(cpf: str, offers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A valid EnrollmentPayload for ``cpf``."""
    first, second = offers or open_offer_pair()
    return {
        "dadosPessoais": {
            "celular": "11975405666",
            "cpf": f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}",
            "dataNascimento": "1989-08-31",
            "email": "candidato@example.com",
            "endereco": {
                "cep": "12243-740",
                "logradouro": "Rua Pedro de Toledo",
                "municipio": "São José dos Campos",
                "numero": "48",
                "uf": "SP",
            },
            "necessidadesEspeciais": [],
            "nome": "Candidato Teste",
            "rg": "20000000",
            "sexo": "M",
        },
        "inscricao": {
            "canalVendas": {"id": 85},
            "idAfiliado": "DL00QUERO12991",
            "idTipoProva": 1,
            "ofertas": {"primeiraOpcao": {"id": first["id"]}, "segundaOpcao": {"id": second["id"]}},
        },
    }


def kroton_token(server: SandboxServer) -> str:
    """Fetch a Kroton OAuth2 token."""
    reply = httpx.post(server.kroton_url + "/oauth2/token", data=TOKEN_FORM, headers=SUBSCRIPTION)
    reply.raise_for_status()
    return reply.json()["access_token"]


@pytest.fixture
def kroton(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """An httpx client on the Kroton API with subscription key and a valid token."""
    headers = {**SUBSCRIPTION, "Authorization": f"Bearer {kroton_token(sandbox)}"}
    with httpx.Client(base_url=sandbox.kroton_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def catalog_client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """An httpx client on the catalog middleware with the API key."""
    with httpx.Client(base_url=sandbox.catalog_url, headers=CATALOG_AUTH, timeout=10) as client:
        yield client
