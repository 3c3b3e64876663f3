"""No log record, from our loggers or httpx's, carries a lead's CPF, e-mail or phone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from kroton_pipeline.clients.kroton import KrotonClient
from kroton_pipeline.clients.transport import KrotonError
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline_tests.clients.conftest import fresh_cpfs

pytestmark = pytest.mark.integration


def test_no_log_record_contains_unmasked_personal_data(
    sandbox: SandboxServer,
    kroton: Callable[..., KrotonClient],
    payload_for: Callable[[str], dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    client = kroton(sleep=lambda _s: None)
    cpfs = fresh_cpfs(4)
    payloads = [payload_for(cpf) for cpf in cpfs]
    failures: list[str] = []

    def attempt(call: Callable[[], object]) -> None:
        try:
            call()
        except KrotonError as exc:
            failures.append(str(exc))

    attempt(lambda: client.register(payloads[0]))  # accepted
    attempt(lambda: client.register(payloads[0]))  # 409 duplicate
    bad = payload_for(cpfs[1])
    bad["dadosPessoais"]["sexo"] = "X"
    attempt(lambda: client.register(bad))  # 422
    sandbox.set_faults("register", error_after_store_rate=1.0)
    attempt(lambda: client.register(payloads[2]))  # unknown outcome
    sandbox.set_faults("*", error_rate=1.0)
    attempt(lambda: client.inscriptions_by_cpf(cpfs[3]))  # transient failure
    sandbox.clear_faults()
    for cpf in cpfs:
        client.inscriptions_by_cpf(cpf)
        client.enrolments_by_cpf(cpf)
    client.dry_run = True
    client.register(payloads[3])

    assert len(failures) == 4
    texts = [r.getMessage() for r in caplog.records] + failures
    assert any(r.name == "httpx" for r in caplog.records)  # the library's lines were checked
    secrets = set()
    for payload in payloads:
        personal = payload["dadosPessoais"]
        secrets |= {personal["cpf"], personal["email"], personal["celular"]}
    secrets |= set(cpfs)
    leaks = [(s, t) for t in texts for s in secrets if s in t]
    assert leaks == []
