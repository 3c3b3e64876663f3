"""The /_sandbox control API and the request journal."""

from __future__ import annotations

import httpx
import pytest

from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline_tests.cpfs import make_cpf
from kroton_pipeline_tests.sandbox.conftest import (
    CQRS_PATH,
    SUBSCRIPTION,
    TOKEN_FORM,
    find_cpf,
)

pytestmark = pytest.mark.integration
CPF = make_cpf(777_888_999)


def test_journal_records_requests_but_not_control_calls(
    kroton: httpx.Client, sandbox: SandboxServer
) -> None:
    kroton.get(CQRS_PATH.format(CPF))
    httpx.get(sandbox.base_url + "/_sandbox/clock")
    entries = httpx.get(sandbox.journal_url).json()
    assert [(e["method"], e["system"], e["status"]) for e in entries] == [
        ("POST", "kroton", 200),
        ("GET", "kroton", 200),
    ]
    last = entries[-1]
    assert last["path"] == "/kroton" + CQRS_PATH.format(CPF)
    assert last["client"] == "sandbox-client"
    assert last["endpoint"] == "inscricoes_by_cpf"
    assert isinstance(last["time"], float)
    assert sandbox.journal() == entries
    assert httpx.delete(sandbox.journal_url).status_code == 200
    assert sandbox.journal() == []


def test_unauthenticated_requests_are_journaled_without_client(sandbox: SandboxServer) -> None:
    httpx.get(sandbox.kroton_url + CQRS_PATH.format(CPF))
    [entry] = sandbox.journal()
    assert (entry["status"], entry["client"]) == (401, None)


def test_faults_over_http(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    url = sandbox.base_url + "/_sandbox/faults"
    reply = httpx.post(url, json={"endpoint": "inscricoes_by_cpf", "burst": 1})
    assert reply.status_code == 200
    assert reply.json()["inscricoes_by_cpf"]["burst"] == 1
    assert kroton.get(CQRS_PATH.format(CPF)).status_code == 503
    httpx.post(url, json={"endpoint": "*", "error_rate": 1.0})
    httpx.delete(url)
    assert kroton.get(CQRS_PATH.format(CPF)).status_code == 200
    assert httpx.post(url, json={"endpoint": "bogus", "burst": 1}).status_code == 400


def test_clock_over_http_expires_tokens(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    url = sandbox.base_url + "/_sandbox/clock"
    before = httpx.get(url).json()["now"]
    after = httpx.post(url, json={"advance_seconds": 3600}).json()["now"]
    assert after - before >= 3600
    assert kroton.get(CQRS_PATH.format(CPF)).status_code == 401


def test_revoke_tokens_over_http(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    assert httpx.post(sandbox.base_url + "/_sandbox/revoke-tokens").status_code == 200
    assert kroton.get(CQRS_PATH.format(CPF)).status_code == 401


def test_config_over_http(sandbox: SandboxServer) -> None:
    url = sandbox.base_url + "/_sandbox/config"
    reply = httpx.post(url, json={"rate_limit": 1, "rate_window": 60, "token_ttl": 10})
    assert reply.json()["rate_limit"] == 1
    token = httpx.post(sandbox.kroton_url + "/oauth2/token", data=TOKEN_FORM, headers=SUBSCRIPTION)
    assert token.json()["expires_in"] == 10
    again = httpx.post(sandbox.kroton_url + "/oauth2/token", data=TOKEN_FORM, headers=SUBSCRIPTION)
    assert again.status_code == 429
    assert httpx.post(url, json={"nonsense": 1}).status_code == 400


def test_inscriptions_over_http(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    url = sandbox.base_url + "/_sandbox/inscriptions"
    cpf = find_cpf(lambda ins: True, start=700_000_000)
    created = httpx.post(url, json={"cpf": cpf, "classificacao": "Convocado"})
    assert created.status_code == 200
    assert created.json()["classificacao"] == "Convocado"
    [held] = httpx.get(url).json()
    assert {
        "cpf",
        "inscricaoId",
        "status",
        "classificacao",
        "sistema",
        "ofertas",
        "created_at",
    } <= set(held)
    assert held["cpf"] == cpf and held["status"] == "SUCCESS"
    [item] = kroton.get(CQRS_PATH.format(cpf)).json()["inscricoes"]
    assert item["classificacao"]["descricao"] == "Convocado"
    assert sandbox.inscriptions() == httpx.get(url).json()
    assert httpx.post(url, json={}).status_code == 400


def test_unknown_control_path_is_404(sandbox: SandboxServer) -> None:
    assert httpx.get(sandbox.base_url + "/_sandbox/nothing").status_code == 404
    assert httpx.get(sandbox.base_url + "/_sandbox").json()["ok"] is True
