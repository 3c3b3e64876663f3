"""The sandbox in the v5 dialect: the paths and shapes production integrations read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.sandbox import lifecycle as lc
from kroton_pipeline_tests.sandbox.conftest import (
    CQRS_PATH,
    REGISTER_PATH,
    SEED,
    SUBSCRIPTION,
    TOKEN_FORM,
    find_cpf,
    registration,
)

pytestmark = pytest.mark.integration
TIMING = lc.Timing()
V5_REGISTER_PATH = "/ms/inscricaocqrs/captacao/v5/inscricao"
V5_BY_ID_PATH = "/ms/inscricaocqrs/captacao/v5/inscricao/{}"


@pytest.fixture
def dialect() -> str:
    return "v5"


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    """Tokens that outlive the days these tests jump over."""
    return {"token_ttl": 365 * lc.DAY}


@pytest.fixture
def kroton(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client that asks for its token as production integrations do: no scope, no key."""
    form = {key: value for key, value in TOKEN_FORM.items() if key != "scope"}
    token = httpx.post(sandbox.kroton_url + "/oauth2/token", data=form).json()["access_token"]
    headers = {**SUBSCRIPTION, "Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=sandbox.kroton_url, headers=headers, timeout=10) as client:
        yield client


def _punctuated(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


def _immediate(ins: lc.Inscription) -> bool:
    return lc.answered_immediately(ins, SEED, TIMING)


def test_registration_is_posted_on_the_v5_path_and_answered_201_with_the_new_item(
    kroton: httpx.Client,
) -> None:
    cpf = find_cpf(_immediate)
    assert kroton.post(REGISTER_PATH, json=registration(cpf)).status_code == 404
    reply = kroton.post(V5_REGISTER_PATH, json=registration(cpf))
    assert reply.status_code == 201
    body = reply.json()
    assert "success" not in body
    assert body["processamento"] == {"status": "SUCCESS"}
    assert isinstance(body["inscricao"]["idOrigem"], int)
    assert body["inscricao"]["businessKey"].startswith(f"CPF_{cpf}_")


def test_cpf_lookup_is_a_top_level_array_of_nested_items(kroton: httpx.Client) -> None:
    cpf = find_cpf(_immediate)
    assert kroton.get(CQRS_PATH.format(_punctuated(cpf))).json() == []
    kroton.post(V5_REGISTER_PATH, json=registration(cpf))
    (item,) = kroton.get(CQRS_PATH.format(_punctuated(cpf))).json()
    assert set(item) == {"sistema", "processamento", "dadosPessoais", "inscricao", "matricula"}
    assert item["inscricao"]["classificacao"]["descricao"] in ("Inscrito", "Inscrito VG Online")
    assert item["matricula"] == {"id": None, "ra": None}
    assert item["dadosPessoais"]["cpf"] == _punctuated(cpf)
    # The digits-only form is served too.
    assert kroton.get(CQRS_PATH.format(cpf)).json() == [item]


def test_failed_registrations_are_listed_with_their_processing_error(
    sandbox: SandboxServer, kroton: httpx.Client
) -> None:
    def ends_in_error(ins: lc.Inscription) -> bool:
        return not _immediate(ins) and lc.success_time(ins, SEED, TIMING) is None

    cpf = find_cpf(ends_in_error)
    created = kroton.post(V5_REGISTER_PATH, json=registration(cpf)).json()
    assert created["processamento"] == {"status": "NEW"}
    sandbox.advance(TIMING.settle_after + 1)
    (item,) = kroton.get(CQRS_PATH.format(cpf)).json()
    assert item["processamento"] == {"status": "ERROR"}
    by_id = kroton.get(V5_BY_ID_PATH.format(created["inscricao"]["idOrigem"]))
    assert by_id.status_code == 200 and by_id.json() == item


def test_a_student_carries_matricula_ra(sandbox: SandboxServer, kroton: httpx.Client) -> None:
    cpf = find_cpf(_immediate)
    sandbox.preseed(cpf, "Aluno", enrolled=True)
    (item,) = kroton.get(CQRS_PATH.format(cpf)).json()
    assert item["matricula"]["ra"]
    assert item["inscricao"]["classificacao"]["descricao"].casefold() == "aluno"


def test_refusals_answer_with_message_or_data(kroton: httpx.Client) -> None:
    cpf = find_cpf(_immediate)
    bad = registration(cpf)
    bad["dadosPessoais"]["sexo"] = "NI"
    invalid = kroton.post(V5_REGISTER_PATH, json=bad)
    assert invalid.status_code == 422 and "sexo" in invalid.json()["data"]
    kroton.post(V5_REGISTER_PATH, json=registration(cpf))
    duplicate = kroton.post(V5_REGISTER_PATH, json=registration(cpf))
    assert duplicate.status_code == 409 and set(duplicate.json()) == {"message"}


def test_an_accepted_registration_can_be_answered_with_no_body(
    sandbox: SandboxServer, kroton: httpx.Client
) -> None:
    sandbox.configure(empty_register_answer=True)
    reply = kroton.post(V5_REGISTER_PATH, json=registration(find_cpf(_immediate)))
    assert reply.status_code == 201 and reply.content == b""
