"""Pure rules of the request loop and of masking: no network."""

from __future__ import annotations

import random

import pytest

from kroton_pipeline.clients.kroton import normalise_cpf
from kroton_pipeline.clients.transport import (
    ClientCounters,
    KrotonRejected,
    RetryPolicy,
    retry_after_seconds,
)
from kroton_pipeline.domain.leads import mask_cpf, scrub


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(backoff_base_seconds=1.0, backoff_max_seconds=8.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.backoff(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds(None) == 1.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds("soon") == 1.0


def test_counters_as_metadata_are_plain_numbers() -> None:
    counters = ClientCounters("kroton")
    counters.count_request("register", 200)
    counters.count_request("register", "timeout")
    counters.add("budget_wait_seconds", 1.23456)
    data = counters.as_metadata()
    assert data["kroton.requests.register.200"] == 1
    assert data["kroton.requests.register.timeout"] == 1
    assert data["kroton.requests_total"] == 2
    assert data["kroton.budget_wait_seconds"] == 1.235
    assert all(type(v) in (int, float) for v in data.values())


def test_masking_hides_cpf_email_phone_and_birth_date() -> None:
    assert mask_cpf("378.457.608-70").startswith("***")
    text = scrub("cpf 37845760870 / 378.457.608-70, a@b.com.br, (11) 97540-5666, 1989-08-31")
    for secret in ("37845760870", "378.457.608-70", "a@b.com.br", "97540-5666", "1989-08-31"):
        assert secret not in text


def test_rejection_messages_are_scrubbed_but_the_body_is_kept() -> None:
    exc = KrotonRejected(
        endpoint="kroton.register",
        status_code=422,
        kroton_message="CPF 37845760870 inválido",
        errors=["email x@y.com inválido"],
        body={"inscricaoId": "abc"},
    )
    assert "37845760870" not in str(exc) and "x@y.com" not in str(exc)
    assert exc.existing_inscricao_id == "abc"


def test_a_cpf_needs_eleven_digits_and_the_error_does_not_repeat_it() -> None:
    assert normalise_cpf("378.457.608-70") == "37845760870"
    with pytest.raises(ValueError) as caught:
        normalise_cpf("1234")
    assert "1234" not in str(caught.value)
