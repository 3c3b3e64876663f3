"""Captação and catalog clients against the sandbox over real HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kroton_pipeline.clients.captacao import CaptacaoClient
from kroton_pipeline.clients.kroton import CatalogClient
from kroton_pipeline.clients.transport import AuthenticationFailed
from kroton_pipeline.domain.kroton_api import CourseSearch, build_course_query
from kroton_pipeline.sandbox import Credentials, SandboxServer
from kroton_pipeline_tests.clients.conftest import FAST, fresh_cpfs

pytestmark = pytest.mark.integration


def test_captacao_logs_in_once_and_relogs_on_401(
    sandbox: SandboxServer, captacao: CaptacaoClient
) -> None:
    cpf = fresh_cpfs(1)[0]
    captacao.inscriptions_by_cpf(cpf)
    captacao.enrolments_by_cpf(cpf)
    sandbox.revoke_tokens()
    assert captacao.inscriptions_by_cpf(cpf).inscriptions == ()
    endpoints = [(e["endpoint"], e["status"]) for e in sandbox.journal()]
    assert endpoints == [
        ("captacao_login", 200),
        ("inscricoes_by_cpf", 200),
        ("matriculas_by_cpf", 200),
        ("inscricoes_by_cpf", 401),
        ("captacao_login", 200),
        ("inscricoes_by_cpf", 200),
    ]


def test_captacao_bad_password_fails_fast(sandbox: SandboxServer) -> None:
    with CaptacaoClient(
        base_url=sandbox.captacao_url,
        email="sandbox@example.com",
        password="wrong",
        subscription_key="sandbox-subscription",
        policy=FAST,
    ) as client:
        with pytest.raises(AuthenticationFailed):
            client.inscriptions_by_cpf(fresh_cpfs(1)[0])
        assert not client.health().ok
    assert len(sandbox.journal()) == 2  # one login per call, no storm


def test_catalog_search_keeps_each_document_whole(catalog: CatalogClient) -> None:
    first = catalog.search({"bool": {"must": [{"match": {"ativa": True}}]}}, size=1).offers[0]
    query = build_course_query(
        CourseSearch(
            course_name=first["dsCurso"],
            unit_id=first["idUnidadeOrigem"],
            course_type=first["dsTipoCurso"],
            modality=first["dsModalidade"],
            monthly_price=Decimal(str(first["vlMensalidadeDe"])),
            capture_period=first["periodoCaptacao"],
        ),
        today=date(2025, 1, 1),
    )
    result = catalog.search(query)
    assert result.total >= 1
    assert first in result.offers
    assert result.hits.hits[0].id


def test_catalog_accepts_bearer_and_refuses_a_bad_key_at_once(sandbox: SandboxServer) -> None:
    with CatalogClient(
        base_url=sandbox.catalog_url, api_key="sandbox-api-key", auth_scheme="Bearer"
    ) as bearer:
        assert bearer.health().ok
    with (
        CatalogClient(base_url=sandbox.catalog_url, api_key="wrong", policy=FAST) as bad,
        pytest.raises(AuthenticationFailed),
    ):
        bad.search({"bool": {"must": []}})
    assert [e["status"] for e in sandbox.journal()] == [200, 401]


def test_catalog_5xx_burst_is_retried(sandbox: SandboxServer, catalog: CatalogClient) -> None:
    sandbox.set_faults("catalog_search", burst=2)
    assert catalog.search({"bool": {"must": [{"match": {"ativa": True}}]}}, size=0).total > 0
    assert catalog.counters.retries == 2


def test_a_catalog_without_auth_is_searched_with_no_authorization_header() -> None:
    with (
        SandboxServer(port=0, credentials=Credentials(catalog_api_key=None)) as open_catalog,
        CatalogClient(base_url=open_catalog.catalog_url, api_key="", auth_scheme="none") as bare,
    ):
        assert bare.search({"bool": {"must": [{"match": {"ativa": True}}]}}, size=0).total > 0
    with pytest.raises(ValueError, match="none"):
        CatalogClient(base_url="http://x", api_key="", auth_scheme="Basic")  # type: ignore[arg-type]
