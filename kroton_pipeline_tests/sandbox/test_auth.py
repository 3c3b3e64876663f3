"""Authentication rules of the three simulated systems."""

from __future__ import annotations

import httpx
import pytest

from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline_tests.cpfs import make_cpf
from kroton_pipeline_tests.sandbox.conftest import (
    CQRS_PATH,
    MATRICULA_PATH,
    SEARCH_PATH,
    SUBSCRIPTION,
    TOKEN_FORM,
    kroton_token,
)

pytestmark = pytest.mark.integration
CPF = make_cpf(111_222_333)


def test_token_endpoint_issues_bearer_token_with_ttl(sandbox: SandboxServer) -> None:
    reply = httpx.post(sandbox.kroton_url + "/oauth2/token", data=TOKEN_FORM, headers=SUBSCRIPTION)
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 60
    assert isinstance(body["access_token"], str) and body["access_token"]


def test_token_request_is_served_with_or_without_scope_and_subscription_key(
    sandbox: SandboxServer,
) -> None:
    # The design document sends both; production integrations send neither.
    url = sandbox.kroton_url + "/oauth2/token"
    bare = {key: value for key, value in TOKEN_FORM.items() if key != "scope"}
    assert httpx.post(url, data=bare).status_code == 200
    assert httpx.post(url, data=TOKEN_FORM).status_code == 200
    assert httpx.post(url, data=bare, headers=SUBSCRIPTION).status_code == 200


def test_token_request_with_a_wrong_subscription_key_is_denied(sandbox: SandboxServer) -> None:
    headers = {"Ocp-Apim-Subscription-Key": "nope"}
    reply = httpx.post(sandbox.kroton_url + "/oauth2/token", data=TOKEN_FORM, headers=headers)
    assert reply.status_code == 401
    assert reply.json() == {
        "statusCode": 401,
        "message": "Access denied due to missing or invalid subscription key.",
    }


def test_lookup_with_wrong_subscription_key_is_denied(sandbox: SandboxServer) -> None:
    token = kroton_token(sandbox)
    headers = {"Ocp-Apim-Subscription-Key": "nope", "Authorization": f"Bearer {token}"}
    reply = httpx.get(sandbox.kroton_url + CQRS_PATH.format(CPF), headers=headers)
    assert reply.status_code == 401
    assert "subscription key" in reply.json()["message"]


@pytest.mark.parametrize("field", ["client_id", "client_secret"])
def test_bad_client_credentials_get_invalid_client(sandbox: SandboxServer, field: str) -> None:
    form = {**TOKEN_FORM, field: "wrong"}
    reply = httpx.post(sandbox.kroton_url + "/oauth2/token", data=form, headers=SUBSCRIPTION)
    assert reply.status_code == 401
    assert reply.json()["error"] == "invalid_client"


def test_wrong_grant_type_and_scope_are_rejected(sandbox: SandboxServer) -> None:
    url = sandbox.kroton_url + "/oauth2/token"
    bad_grant = httpx.post(url, data={**TOKEN_FORM, "grant_type": "password"}, headers=SUBSCRIPTION)
    bad_scope = httpx.post(url, data={**TOKEN_FORM, "scope": "other"}, headers=SUBSCRIPTION)
    assert (bad_grant.status_code, bad_grant.json()["error"]) == (400, "unsupported_grant_type")
    assert (bad_scope.status_code, bad_scope.json()["error"]) == (400, "invalid_scope")


def test_lookup_without_token_is_unauthorized(sandbox: SandboxServer) -> None:
    reply = httpx.get(sandbox.kroton_url + CQRS_PATH.format(CPF), headers=SUBSCRIPTION)
    assert reply.status_code == 401
    assert reply.json()["message"].startswith("Unauthorized.")


def test_token_expires_with_the_sandbox_clock(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    assert kroton.get(CQRS_PATH.format(CPF)).status_code == 200
    sandbox.advance(59)
    assert kroton.get(CQRS_PATH.format(CPF)).status_code == 200
    sandbox.advance(2)
    assert kroton.get(CQRS_PATH.format(CPF)).status_code == 401


def test_configured_token_ttl_applies_to_new_tokens(sandbox: SandboxServer) -> None:
    sandbox.configure(token_ttl=5)
    reply = httpx.post(sandbox.kroton_url + "/oauth2/token", data=TOKEN_FORM, headers=SUBSCRIPTION)
    assert reply.json()["expires_in"] == 5


def test_revoked_tokens_are_rejected(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.revoke_tokens()
    assert kroton.get(MATRICULA_PATH.format(CPF)).status_code == 401


def test_captacao_login_and_lookups(sandbox: SandboxServer) -> None:
    login = httpx.post(
        sandbox.captacao_url + "/auth/login",
        json={"email": "sandbox@example.com", "password": "sandbox-password"},
        headers=SUBSCRIPTION,
    )
    assert login.status_code == 200
    assert login.json()["expiresIn"] == 86400
    headers = {**SUBSCRIPTION, "Authorization": f"Bearer {login.json()['token']}"}
    reply = httpx.get(sandbox.captacao_url + CQRS_PATH.format(CPF), headers=headers)
    assert reply.status_code == 200
    assert reply.json() == {"inscricoes": []}
    sandbox.advance(86_401)
    assert (
        httpx.get(sandbox.captacao_url + CQRS_PATH.format(CPF), headers=headers).status_code == 401
    )


def test_captacao_bad_login_and_foreign_token(sandbox: SandboxServer) -> None:
    bad = httpx.post(
        sandbox.captacao_url + "/auth/login",
        json={"email": "sandbox@example.com", "password": "x"},
        headers=SUBSCRIPTION,
    )
    assert (bad.status_code, bad.json()) == (401, {"message": "Invalid credentials"})
    # A Kroton token is not a Captação token.
    headers = {**SUBSCRIPTION, "Authorization": f"Bearer {kroton_token(sandbox)}"}
    assert (
        httpx.get(sandbox.captacao_url + CQRS_PATH.format(CPF), headers=headers).status_code == 401
    )


@pytest.mark.parametrize("scheme", ["apiKey", "Bearer"])
def test_catalog_accepts_api_key_in_both_schemes(sandbox: SandboxServer, scheme: str) -> None:
    reply = httpx.post(
        sandbox.catalog_url + SEARCH_PATH,
        json={"query": {"match_all": {}}, "size": 1},
        headers={"Authorization": f"{scheme} sandbox-api-key"},
    )
    assert reply.status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "apiKey wrong"}])
def test_catalog_rejects_missing_or_bad_key(
    sandbox: SandboxServer, headers: dict[str, str]
) -> None:
    reply = httpx.post(sandbox.catalog_url + SEARCH_PATH, json={}, headers=headers)
    assert reply.status_code == 401


def test_unknown_path_and_wrong_method(sandbox: SandboxServer) -> None:
    assert httpx.get(sandbox.kroton_url + "/nope", headers=SUBSCRIPTION).status_code == 404
    assert httpx.get(sandbox.kroton_url + "/oauth2/token", headers=SUBSCRIPTION).status_code == 405
