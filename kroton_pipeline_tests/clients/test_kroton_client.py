"""Kroton client against the sandbox over real HTTP: auth, retries, unknown outcomes, dry run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kroton_pipeline.clients.kroton import KrotonClient
from kroton_pipeline.clients.transport import (
    AuthenticationFailed,
    KrotonRejected,
    NotFound,
    OutcomeUnknown,
    RetryPolicy,
    TransientFailure,
)
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline_tests.clients.conftest import fresh_cpfs, kroton_entries

pytestmark = pytest.mark.integration

MakeKroton = Callable[..., KrotonClient]


def statuses(sandbox: SandboxServer, endpoint: str | None = None) -> list[int | None]:
    return [e["status"] for e in kroton_entries(sandbox, endpoint)]


# -- auth ----------------------------------------------------------------------------------


def test_token_expiry_in_the_middle_of_a_sequence_is_invisible(
    sandbox: SandboxServer, kroton: MakeKroton
) -> None:
    client = kroton()
    cpfs = fresh_cpfs(6)
    for cpf in cpfs[:3]:
        assert client.inscriptions_by_cpf(cpf).inscriptions == ()
    sandbox.advance(3600)  # the sandbox's token expired; the client's clock did not move
    for cpf in cpfs[3:]:
        assert client.inscriptions_by_cpf(cpf).inscriptions == ()
    assert statuses(sandbox, "inscricoes_by_cpf") == [200, 200, 200, 401, 200, 200, 200]
    assert statuses(sandbox, "token") == [200, 200]
    assert client.counters.token_renewals_on_401 == 1
    assert client.counters.retries == 0


def test_token_is_renewed_shortly_before_it_expires(
    sandbox: SandboxServer, kroton: MakeKroton
) -> None:
    now = [1_000.0]
    client = kroton(clock=lambda: now[0], token_margin_seconds=10)
    cpf = fresh_cpfs(1)[0]
    client.inscriptions_by_cpf(cpf)
    now[0] += 49  # 60 s token, 10 s margin: still good
    client.inscriptions_by_cpf(cpf)
    now[0] += 2  # inside the margin: renewed before use, so Kroton never answers 401
    client.inscriptions_by_cpf(cpf)
    assert statuses(sandbox, "token") == [200, 200]
    assert 401 not in statuses(sandbox)


def test_revoked_token_is_renewed_once(sandbox: SandboxServer, kroton: MakeKroton) -> None:
    client = kroton()
    cpf = fresh_cpfs(1)[0]
    client.enrolments_by_cpf(cpf)
    sandbox.revoke_tokens()
    assert client.enrolments_by_cpf(cpf).active_ids == ()
    assert statuses(sandbox, "matriculas_by_cpf") == [200, 401, 200]


def test_bad_client_secret_fails_fast_without_a_retry_storm(
    sandbox: SandboxServer, kroton: MakeKroton
) -> None:
    client = kroton(client_secret="wrong")
    with pytest.raises(AuthenticationFailed, match="credentials refused") as caught:
        client.inscriptions_by_cpf(fresh_cpfs(1)[0])
    assert "wrong" not in str(caught.value)
    assert statuses(sandbox) == [401]  # one token request, nothing else


def test_bad_subscription_key_fails_fast(sandbox: SandboxServer, kroton: MakeKroton) -> None:
    client = kroton(subscription_key="wrong")
    with pytest.raises(AuthenticationFailed, match="subscription key"):
        client.inscriptions_by_cpf(fresh_cpfs(1)[0])
    if sandbox.app.dialect == "source":
        assert statuses(sandbox) == [401]  # the token request carries the key
    else:  # no key on the token request: the look-up is refused, once after a new token
        assert statuses(sandbox) == [200, 401, 200, 401]


# -- retries -------------------------------------------------------------------------------


def test_5xx_burst_is_retried_and_succeeds(sandbox: SandboxServer, kroton: MakeKroton) -> None:
    client = kroton()
    client.inscriptions_by_cpf(fresh_cpfs(1)[0])  # token first
    sandbox.set_faults("inscricoes_by_cpf", burst=2)
    assert client.inscriptions_by_cpf(fresh_cpfs(1)[0]).inscriptions == ()
    assert statuses(sandbox, "inscricoes_by_cpf") == [200, 503, 503, 200]
    assert client.counters.retries == 2


def test_persistent_5xx_ends_in_transient_failure_after_bounded_attempts(
    sandbox: SandboxServer, kroton: MakeKroton
) -> None:
    client = kroton(policy=RetryPolicy(max_attempts=3, backoff_base_seconds=0.01))
    sandbox.set_faults("matriculas_by_cpf", error_rate=1.0)
    with pytest.raises(TransientFailure) as caught:
        client.enrolments_by_cpf(fresh_cpfs(1)[0])
    assert caught.value.attempts == 3
    assert caught.value.last_status in (500, 502, 503)
    assert len(statuses(sandbox, "matriculas_by_cpf")) == 3


def test_get_timeout_is_retried(sandbox: SandboxServer, kroton: MakeKroton) -> None:
    # The fault lasts until the client backs off for the first time.
    client = kroton(sleep=lambda _seconds: sandbox.clear_faults())
    sandbox.set_faults("inscricoes_by_cpf", timeout_rate=1.0)
    assert client.inscriptions_by_cpf(fresh_cpfs(1)[0]).inscriptions == ()
    assert statuses(sandbox, "inscricoes_by_cpf") == [None, 200]
    assert client.counters.requests[("inscricoes_by_cpf", "timeout")] == 1


def test_malformed_json_is_retried_on_get(sandbox: SandboxServer, kroton: MakeKroton) -> None:
    client = kroton(sleep=lambda _seconds: sandbox.clear_faults())
    sandbox.set_faults("inscricao_status", malformed_rate=1.0)
    inscricao_id = sandbox.preseed(fresh_cpfs(1)[0], "Inscrito")
    answer = client.inscription_status(inscricao_id, _sistema_of(sandbox, inscricao_id))
    assert answer.best().inscription_id == inscricao_id
    assert statuses(sandbox, "inscricao_status") == [200, 200]
    assert client.counters.retries == 1


def test_429_is_honoured_with_retry_after_without_using_attempts(
    sandbox: SandboxServer, kroton: MakeKroton
) -> None:
    sandbox.configure(rate_limit=3, rate_window=60, token_ttl=3600)
    waits: list[float] = []

    def wait_on_sandbox_clock(seconds: float) -> None:
        waits.append(seconds)
        sandbox.advance(seconds)

    # One attempt only: a 429 that used up an attempt would fail the call.
    client = kroton(policy=RetryPolicy(max_attempts=1), sleep=wait_on_sandbox_clock)
    for cpf in fresh_cpfs(4):
        client.inscriptions_by_cpf(cpf)
    assert statuses(sandbox) == [200, 200, 200, 429, 200, 200]
    assert client.counters.rate_limited == 1
    assert client.counters.retries == 0
    assert 58 <= waits[0] <= 67  # Retry-After (about 60 s) plus a little jitter


# -- registration --------------------------------------------------------------------------


def test_registration_returns_krotons_answer(
    sandbox: SandboxServer, kroton: MakeKroton, payload_for: Callable[[str], dict[str, Any]]
) -> None:
    cpf = fresh_cpfs(1)[0]
    result = kroton().register(payload_for(cpf))
    assert not result.dry_run and result.accepted
    assert result.inscription.processing in ("NEW", "PROCESSING", "SUCCESS")
    held = [i for i in sandbox.inscriptions() if i["origin"] == "registered"]
    assert result.inscription.inscription_id == held[0]["inscricaoId"]
    # Kroton's answer is kept exactly as it came, in the dialect's own shape.
    if sandbox.app.dialect == "v5":
        assert result.raw["inscricao"]["idOrigem"] == int(held[0]["inscricaoId"])
        assert "success" not in result.raw
    else:
        assert result.raw["inscricaoId"] == held[0]["inscricaoId"]


def test_registration_timeout_is_an_unknown_outcome_sent_once(
    sandbox: SandboxServer, kroton: MakeKroton, payload_for: Callable[[str], dict[str, Any]]
) -> None:
    client = kroton()
    sandbox.set_faults("register", timeout_rate=1.0)
    with pytest.raises(OutcomeUnknown) as caught:
        client.register(payload_for(fresh_cpfs(1)[0]))
    assert caught.value.kind == "timeout"
    posts = kroton_entries(sandbox, "register")
    assert len(posts) == 1
    assert client.counters.unknown_outcomes == 1


@pytest.mark.parametrize("fault", [{"error_after_store_rate": 1.0}, {"burst": 1}])
def test_registration_5xx_is_an_unknown_outcome_never_resent(
    sandbox: SandboxServer,
    kroton: MakeKroton,
    payload_for: Callable[[str], dict[str, Any]],
    fault: dict[str, Any],
) -> None:
    client = kroton()
    cpf = fresh_cpfs(1)[0]
    sandbox.set_faults("register", **fault)
    with pytest.raises(OutcomeUnknown):
        client.register(payload_for(cpf))
    assert len(kroton_entries(sandbox, "register")) == 1
    # The pipeline reconciles with a look-up: stored after all when the error came late.
    found = client.inscriptions_by_cpf(cpf).inscriptions
    assert len(found) == (1 if "error_after_store_rate" in fault else 0)


def test_invalid_registration_is_rejected_with_krotons_message(
    sandbox: SandboxServer, kroton: MakeKroton, payload_for: Callable[[str], dict[str, Any]]
) -> None:
    payload = payload_for(fresh_cpfs(1)[0])
    payload["dadosPessoais"]["sexo"] = "NI"
    with pytest.raises(KrotonRejected) as caught:
        kroton().register(payload)
    assert caught.value.status_code == 422
    assert caught.value.message and "sexo" in caught.value.message
    assert len(kroton_entries(sandbox, "register")) == 1


def test_duplicate_registration_names_the_existing_inscription(
    sandbox: SandboxServer, kroton: MakeKroton, payload_for: Callable[[str], dict[str, Any]]
) -> None:
    cpf = fresh_cpfs(1)[0]
    existing = sandbox.preseed(cpf, "Inscrito")
    with pytest.raises(KrotonRejected) as caught:
        kroton().register(payload_for(cpf))
    assert caught.value.status_code == 409
    # The design document's answer names the inscription; v5's only says why.
    named = existing if sandbox.app.dialect == "source" else None
    assert caught.value.existing_inscricao_id == named


def test_unknown_inscription_is_not_found(sandbox: SandboxServer, kroton: MakeKroton) -> None:
    with pytest.raises(NotFound):
        kroton().inscription_status("99999999", "OLIMPO")


def test_dry_run_sends_nothing_and_returns_the_payloads(
    sandbox: SandboxServer, kroton: MakeKroton, payload_for: Callable[[str], dict[str, Any]]
) -> None:
    client = kroton(dry_run=True)
    payloads = [payload_for(cpf) for cpf in fresh_cpfs(3)]
    results = [client.register(p) for p in payloads]
    assert all(r.dry_run and r.raw is None for r in results)
    assert client.dry_run_payloads == payloads
    assert client.counters.dry_run_payloads == 3
    assert not [e for e in sandbox.journal() if e["method"] == "POST" and e["system"] == "kroton"]
    assert kroton_entries(sandbox) == []  # not even a token: nothing needed sending


def test_lookups_can_go_through_captacao(
    sandbox: SandboxServer, kroton: MakeKroton, captacao: Any
) -> None:
    client = kroton(lookups=captacao)
    assert client.inscriptions_by_cpf(fresh_cpfs(1)[0]).inscriptions == ()
    assert [e["system"] for e in sandbox.journal()] == ["captacao", "captacao"]


def test_health_reports_token_and_endpoint(sandbox: SandboxServer, kroton: MakeKroton) -> None:
    assert kroton().health().ok
    bad = kroton(client_secret="wrong").health()
    assert not bad.ok and "credentials refused" in bad.detail


def _sistema_of(sandbox: SandboxServer, inscricao_id: str) -> str:
    return next(i["sistema"] for i in sandbox.inscriptions() if i["inscricaoId"] == inscricao_id)
