"""Per-client rate limits: N requests per sliding window, then 429 + Retry-After."""

from __future__ import annotations

import httpx
import pytest

from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.sandbox.rate_limit import SlidingWindowLimiter
from kroton_pipeline_tests.cpfs import make_cpf
from kroton_pipeline_tests.sandbox.conftest import (
    CATALOG_AUTH,
    CQRS_PATH,
    SEARCH_PATH,
    SUBSCRIPTION,
    TOKEN_FORM,
)

CPF = make_cpf(222_333_444)


def test_limiter_admits_n_per_window_then_says_how_long_to_wait() -> None:
    limiter = SlidingWindowLimiter(limit=3, window=10.0)
    assert [limiter.admit("a", t) for t in (0.0, 1.0, 2.0)] == [0, 0, 0]
    assert limiter.admit("a", 2.5) == 8  # the hit at 0.0 leaves the window at 10.0
    assert limiter.admit("b", 2.5) == 0  # clients are independent
    assert limiter.admit("a", 10.0) == 0


def test_limiter_retry_after_is_at_least_one_second() -> None:
    limiter = SlidingWindowLimiter(limit=1, window=1.0)
    limiter.admit("a", 0.0)
    assert limiter.admit("a", 0.99) == 1


@pytest.mark.integration
def test_kroton_answers_429_with_retry_after_and_token_requests_count() -> None:
    with SandboxServer(port=0, rate_limit=5, rate_window=2.0) as sandbox:
        token_url = sandbox.kroton_url + "/oauth2/token"
        token = httpx.post(token_url, data=TOKEN_FORM, headers=SUBSCRIPTION).json()["access_token"]
        headers = {**SUBSCRIPTION, "Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=sandbox.kroton_url, headers=headers) as client:
            statuses = [client.get(CQRS_PATH.format(CPF)).status_code for _ in range(4)]
            limited = client.get(CQRS_PATH.format(CPF))
        assert statuses == [200] * 4  # 1 token request + 4 look-ups = the budget of 5
        assert limited.status_code == 429
        retry_after = int(limited.headers["Retry-After"])
        assert 1 <= retry_after <= 2
        assert limited.json() == {
            "statusCode": 429,
            "message": f"Rate limit is exceeded. Try again in {retry_after} seconds.",
        }
        # The token endpoint shares the client's budget.
        assert httpx.post(token_url, data=TOKEN_FORM, headers=SUBSCRIPTION).status_code == 429
        sandbox.advance(2.0)
        assert httpx.get(sandbox.kroton_url + CQRS_PATH.format(CPF), headers=headers).is_success


@pytest.mark.integration
def test_systems_have_separate_budgets_and_config_changes_apply() -> None:
    with SandboxServer(port=0, rate_limit=2, rate_window=60.0) as sandbox:
        url = sandbox.catalog_url + SEARCH_PATH
        body = {"query": {"match_all": {}}, "size": 1}
        codes = [httpx.post(url, json=body, headers=CATALOG_AUTH).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        token = httpx.post(
            sandbox.kroton_url + "/oauth2/token", data=TOKEN_FORM, headers=SUBSCRIPTION
        )
        assert token.status_code == 200  # Kroton's budget is untouched by the catalog's
        sandbox.configure(rate_limit=10)
        assert httpx.post(url, json=body, headers=CATALOG_AUTH).status_code == 200
        assert [e["status"] for e in sandbox.journal()] == [200, 200, 429, 200, 200]


@pytest.mark.integration
def test_rate_limit_applies_per_captacao_account() -> None:
    with SandboxServer(port=0, rate_limit=1, rate_window=60.0) as sandbox:
        login = {"email": "sandbox@example.com", "password": "sandbox-password"}
        url = sandbox.captacao_url + "/auth/login"
        assert httpx.post(url, json=login, headers=SUBSCRIPTION).status_code == 200
        assert httpx.post(url, json=login, headers=SUBSCRIPTION).status_code == 429
