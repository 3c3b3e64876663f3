"""The clients as Dagster resources: one client per run, dry run, counters as metadata."""

from __future__ import annotations

from typing import Any

import pytest
from dagster import MaterializeResult, asset, materialize

from kroton_pipeline.defs.common.resources import CaptacaoResource, CatalogResource, KrotonResource
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline_tests.clients.conftest import fresh_cpfs, kroton_entries

pytestmark = pytest.mark.integration


def resources(sandbox: SandboxServer, database_url: str, **kroton: Any) -> dict[str, Any]:
    captacao = CaptacaoResource(
        base_url=sandbox.captacao_url,
        email="sandbox@example.com",
        password="sandbox-password",
        subscription_key="sandbox-subscription",
        database_url=database_url,
    )
    return {
        "kroton": KrotonResource(
            base_url=sandbox.kroton_url,
            client_id="sandbox-client",
            client_secret="sandbox-secret",
            subscription_key="sandbox-subscription",
            database_url=database_url,
            captacao=captacao,
            **kroton,
        ),
        "catalog": CatalogResource(
            base_url=sandbox.catalog_url, api_key="sandbox-api-key", database_url=database_url
        ),
    }


@asset
def checked_leads(kroton: KrotonResource) -> MaterializeResult:
    client = kroton.get_client()
    for cpf in fresh_cpfs(3):
        client.inscriptions_by_cpf(cpf)
    return MaterializeResult(metadata=client.counters.as_metadata())


@asset(deps=[checked_leads])
def dry_registrations(kroton: KrotonResource, catalog: CatalogResource) -> MaterializeResult:
    client = kroton.get_client()
    offers = catalog.get_client().search({"bool": {"must": []}}, size=2).offers
    payload = {"dadosPessoais": {"cpf": fresh_cpfs(1)[0]}, "inscricao": {"ofertas": offers}}
    result = client.register(payload)
    assert result.dry_run
    return MaterializeResult(metadata=client.counters.as_metadata())


def test_one_client_per_run_with_its_token_cached_and_counters_in_metadata(
    sandbox: SandboxServer, sqlite_url: str
) -> None:
    result = materialize(
        [checked_leads, dry_registrations], resources=resources(sandbox, sqlite_url, dry_run=True)
    )
    assert result.success
    assert [e["endpoint"] for e in kroton_entries(sandbox)].count("token") == 1
    assert "register" not in [e["endpoint"] for e in kroton_entries(sandbox)]
    metadata = result.asset_materializations_for_node("dry_registrations")[0].metadata
    assert metadata["kroton.requests.inscricoes_by_cpf.200"].value == 3
    assert metadata["kroton.dry_run_payloads"].value == 1


def test_lookups_via_captacao_route_through_the_captacao_api(
    sandbox: SandboxServer, sqlite_url: str
) -> None:
    result = materialize(
        [checked_leads], resources=resources(sandbox, sqlite_url, lookups_via_captacao=True)
    )
    assert result.success
    assert {e["system"] for e in sandbox.journal()} == {"captacao"}


def test_resources_check_their_own_health(sandbox: SandboxServer, sqlite_url: str) -> None:
    configured = resources(sandbox, sqlite_url)
    assert configured["kroton"].health().ok
    assert configured["catalog"].health().ok
    assert configured["kroton"].captacao.health().ok
