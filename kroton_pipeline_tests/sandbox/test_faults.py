"""Fault injection: 5xx, bursts, latency, timeouts, malformed JSON, error after store."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.sandbox.faults import FaultInjector
from kroton_pipeline_tests.cpfs import make_cpf
from kroton_pipeline_tests.sandbox.conftest import (
    CQRS_PATH,
    REGISTER_PATH,
    find_cpf,
    registration,
)

pytestmark = pytest.mark.integration
CPF = make_cpf(333_444_555)


def test_error_rate_one_answers_5xx(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.set_faults("inscricoes_by_cpf", error_rate=1.0)
    statuses = {kroton.get(CQRS_PATH.format(CPF)).status_code for _ in range(12)}
    assert statuses <= {500, 502, 503}
    assert len(statuses) >= 2  # the sandbox varies the 5xx flavour
    sandbox.clear_faults()
    assert kroton.get(CQRS_PATH.format(CPF)).status_code == 200


def test_faults_on_one_endpoint_leave_others_alone(
    kroton: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.set_faults("register", error_rate=1.0)
    assert kroton.get(CQRS_PATH.format(CPF)).status_code == 200


def test_burst_answers_503_for_the_next_n_requests(
    kroton: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.set_faults("*", burst=3)
    statuses = [kroton.get(CQRS_PATH.format(CPF)).status_code for _ in range(5)]
    assert statuses == [503, 503, 503, 200, 200]


def test_latency_delays_the_answer(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.set_faults("inscricoes_by_cpf", latency=0.3)
    started = time.perf_counter()
    assert kroton.get(CQRS_PATH.format(CPF)).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_timeout_never_answers(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.configure(timeout_seconds=1.0)
    sandbox.set_faults("inscricoes_by_cpf", timeout_rate=1.0)
    with pytest.raises(httpx.ReadTimeout):
        kroton.get(CQRS_PATH.format(CPF), timeout=0.3)
    assert sandbox.journal()[-1]["status"] is None  # journaled as never answered


def test_timeout_is_cut_short_when_the_server_stops() -> None:
    sandbox = SandboxServer(port=0, timeout_seconds=30.0).start()
    sandbox.set_faults("catalog_search", timeout_rate=1.0)
    url = sandbox.catalog_url + "/elasticlayer/middleware/oferta/_search"
    with pytest.raises(httpx.TimeoutException):
        httpx.post(url, json={}, headers={"Authorization": "apiKey sandbox-api-key"}, timeout=0.2)
    started = time.perf_counter()
    sandbox.stop()
    assert time.perf_counter() - started < 3


def test_malformed_answers_200_with_truncated_json(
    kroton: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.set_faults("inscricoes_by_cpf", malformed_rate=1.0)
    reply = kroton.get(CQRS_PATH.format(CPF))
    assert reply.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.text)


def test_error_after_store_keeps_the_inscription(
    kroton: httpx.Client, sandbox: SandboxServer
) -> None:
    cpf = find_cpf(lambda ins: True, start=444_000_000)
    sandbox.set_faults("register", error_after_store_rate=1.0)
    reply = kroton.post(REGISTER_PATH, json=registration(cpf))
    assert reply.status_code == 500
    held = [i for i in sandbox.inscriptions() if i["cpf"] == cpf]
    assert len(held) == 1
    sandbox.clear_faults()
    retry = kroton.post(REGISTER_PATH, json=registration(cpf))
    assert retry.status_code == 409
    assert retry.json()["inscricaoId"] == held[0]["inscricaoId"]


def test_fault_settings_are_validated() -> None:
    injector = FaultInjector(seed=1)
    with pytest.raises(ValueError):
        injector.set("nope", error_rate=0.5)
    with pytest.raises(ValueError):
        injector.set("register", error_rate=2.0)
    with pytest.raises(ValueError):
        injector.set("register", explode=True)


def test_partial_error_rate_is_roughly_respected() -> None:
    injector = FaultInjector(seed=3)
    injector.set("*", error_rate=0.3)
    errors = sum(injector.plan("register").action == "error" for _ in range(2000))
    assert 450 < errors < 750
