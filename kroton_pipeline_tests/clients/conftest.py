"""Fixtures for the client tests: the clients on the root ``sandbox`` fixture (in both
dialects); the budget databases are the root ``sqlite_url`` and ``postgres_url``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kroton_pipeline.clients import transport as rate_limit
from kroton_pipeline.clients.captacao import CaptacaoClient
from kroton_pipeline.clients.kroton import CatalogClient, KrotonClient
from kroton_pipeline.clients.transport import LocalRateBudget, RetryPolicy
from kroton_pipeline.sandbox import SandboxServer, preseeded_kind
from kroton_pipeline.settings import API_DIALECTS, API_FORMATS, KrotonApiFormat
from kroton_pipeline_tests.cpfs import make_cpf

SEED = 7
CREDENTIALS = {
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "subscription_key": "sandbox-subscription",
}
# Backoff short enough for tests; the rules under test do not depend on the delay.
FAST = RetryPolicy(max_attempts=4, backoff_base_seconds=0.01, backoff_max_seconds=0.05)


def fresh_cpfs(count: int, start: int = 311_222_000) -> list[str]:
    """Valid CPFs the sandbox does not pre-seed as inscribed or enrolled."""
    found: list[str] = []
    base = start
    while len(found) < count:
        cpf = make_cpf(base)
        if preseeded_kind(SEED, cpf) is None:
            found.append(cpf)
        base += 1
    return found


@pytest.fixture(params=API_DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    """Every client test runs against both of Kroton's dialects."""
    return str(request.param)


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    """A generous rate limit and a short hold for injected timeouts."""
    return {"rate_limit": 1000, "rate_window": 300, "timeout_seconds": 2}


def api_format_of(sandbox: SandboxServer) -> KrotonApiFormat:
    """The clients' API format for the dialect the sandbox speaks."""
    return API_FORMATS[sandbox.app.dialect]


@pytest.fixture(autouse=True)
def _dispose_budget_engines() -> Iterator[None]:
    """The shared budget keeps one engine per database URL: dispose of this test's."""
    before = set(rate_limit._engines)
    yield
    for url in set(rate_limit._engines) - before:
        rate_limit._engines.pop(url).dispose()


@pytest.fixture
def kroton(sandbox: SandboxServer) -> Callable[..., KrotonClient]:
    """Factory of Kroton clients on the sandbox (fast retries, timeouts of 0.5 s)."""
    made: list[KrotonClient] = []

    def make(**overrides: Any) -> KrotonClient:
        options: dict[str, Any] = {
            "base_url": sandbox.kroton_url,
            "api_format": api_format_of(sandbox),
            **CREDENTIALS,
            "budget": LocalRateBudget("kroton", 1000, 300),
            "timeout_seconds": 0.5,
            "policy": FAST,
        }
        options.update(overrides)
        client = KrotonClient(**options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def captacao(sandbox: SandboxServer) -> Iterator[CaptacaoClient]:
    with CaptacaoClient(
        base_url=sandbox.captacao_url,
        email="sandbox@example.com",
        password="sandbox-password",
        subscription_key=CREDENTIALS["subscription_key"],
        api_format=api_format_of(sandbox),
        timeout_seconds=0.5,
        policy=FAST,
    ) as client:
        yield client


@pytest.fixture
def catalog(sandbox: SandboxServer) -> Iterator[CatalogClient]:
    with CatalogClient(
        base_url=sandbox.catalog_url, api_key="sandbox-api-key", timeout_seconds=0.5, policy=FAST
    ) as client:
        yield client


@pytest.fixture
def payload_for(catalog: CatalogClient) -> Callable[[str], dict[str, Any]]:
    """Builds a valid enrolment payload for a CPF, with two open offers of the sandbox."""
    offers = catalog.search({"bool": {"must": [{"match": {"ativa": True}}]}}, size=2).offers
    assert len(offers) == 2

    def build(cpf: str) -> dict[str, Any]:
        return {
            "dadosPessoais": {
                "celular": "11975405666",
                "cpf": f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}",
                "dataNascimento": "1989-08-31",
                "email": "maria.teste@example.com",
                "endereco": {
                    "cep": "12243-740",
                    "logradouro": "Rua Pedro de Toledo",
                    "municipio": "São José dos Campos",
                    "numero": "48",
                    "uf": "SP",
                },
                "necessidadesEspeciais": [],
                "nome": "Maria Teste",
                "rg": "20000000",
                "sexo": "F",
            },
            "inscricao": {
                "canalVendas": {"id": 85},
                "idAfiliado": "DL00QUERO12991",
                "idTipoProva": 1,
                "ofertas": {
                    "primeiraOpcao": {"id": offers[0]["id"]},
                    "segundaOpcao": {"id": offers[1]["id"]},
                },
            },
        }

    return build


def kroton_entries(sandbox: SandboxServer, endpoint: str | None = None) -> list[dict[str, Any]]:
    """Journal entries of the Kroton system (optionally of one endpoint)."""
    return [
        e
        for e in sandbox.journal()
        if e["system"] == "kroton" and (endpoint is None or e["endpoint"] == endpoint)
    ]
