"""Fixtures for the client tests: an in-process sandbox over real HTTP, budget databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from kroton_pipeline.clients.captacao import CaptacaoClient
from kroton_pipeline.clients.catalog import CatalogClient
from kroton_pipeline.clients.kroton import KrotonClient
from kroton_pipeline.clients.rate_limit import LocalRateBudget
from kroton_pipeline.clients.transport import RetryPolicy
from kroton_pipeline.db.migrate import upgrade
from kroton_pipeline.sandbox import SandboxServer, preseeded_kind
from kroton_pipeline.settings import API_FORMATS, KrotonApiFormat

SEED = 7
CREDENTIALS = {
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "subscription_key": "sandbox-subscription",
}
PG_ADMIN_URL = os.environ.get(
    "KROTON_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
# Backoff short enough for tests; the rules under test do not depend on the delay.
FAST = RetryPolicy(max_attempts=4, backoff_base_seconds=0.01, backoff_max_seconds=0.05)


def make_cpf(base: int) -> str:
    """A valid CPF (digits only) built from a 9-digit base."""
    digits = f"{base:09d}"
    for size in (9, 10):
        total = sum(int(d) * (size + 1 - i) for i, d in enumerate(digits))
        digits += str((total * 10) % 11 % 10)
    return digits


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


def create_budget_tables(url: str) -> None:
    """The schema, ``rate_limit_events`` included, through the project's migrations."""
    upgrade(url)


@pytest.fixture(params=["source", "v5"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """A fresh sandbox in each dialect, with a generous rate limit and a short hold for
    injected timeouts."""
    with SandboxServer(
        port=0,
        seed=SEED,
        rate_limit=1000,
        rate_window=300,
        timeout_seconds=2,
        dialect=request.param,
    ) as sb:
        yield sb


def api_format_of(sandbox: SandboxServer) -> KrotonApiFormat:
    """The clients' API format for the dialect the sandbox speaks."""
    return API_FORMATS[sandbox.app.dialect]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'budget.db'}"
    create_budget_tables(url)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A uniquely named PostgreSQL database, dropped afterwards; skipped when unreachable
    (failed instead when ``CI=true``)."""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable in CI: {type(exc).__name__}")
        pytest.skip("PostgreSQL unreachable")
    name = f"kroton_clients_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    create_budget_tables(url)
    try:
        yield url
    finally:
        from kroton_pipeline.clients import rate_limit

        engine = rate_limit._engines.pop(url, None)
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
