"""Registrations: validation, processing over time, classifications, pre-seeded CPFs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kroton_pipeline.sandbox import SandboxServer, preseeded_kind
from kroton_pipeline.sandbox import lifecycle as lc
from kroton_pipeline.sandbox.catalog import Catalog
from kroton_pipeline_tests.cpfs import make_cpf
from kroton_pipeline_tests.sandbox.conftest import (
    CQRS_PATH,
    MATRICULA_PATH,
    REGISTER_PATH,
    SEED,
    STATUS_PATH,
    find_cpf,
    registration,
)

pytestmark = pytest.mark.integration
TIMING = lc.Timing()


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    """Tokens that outlive the days these tests jump over."""
    return {"token_ttl": 365 * lc.DAY}


def immediate(ins: lc.Inscription) -> bool:
    return lc.answered_immediately(ins, SEED, TIMING)


def ends_in(status: str):
    def predicate(ins: lc.Inscription) -> bool:
        done = lc.success_time(ins, SEED, TIMING)
        return not immediate(ins) and (done is None) == (status == "ERROR")

    return predicate


def fate(*path: str):
    def predicate(ins: lc.Inscription) -> bool:
        steps = [name for _, name in lc.classification_history(ins, SEED, TIMING)]
        return immediate(ins) and steps == list(path)

    return predicate


def status_of(kroton: httpx.Client, inscricao_id: str, sistema: str) -> dict:
    reply = kroton.get(STATUS_PATH.format(inscricao_id, sistema))
    assert reply.status_code == 200
    return reply.json()


def test_async_registration_goes_new_processing_success(
    kroton: httpx.Client, sandbox: SandboxServer
) -> None:
    cpf = find_cpf(ends_in("SUCCESS"))
    reply = kroton.post(REGISTER_PATH, json=registration(cpf))
    assert reply.status_code == 200
    body = reply.json()
    assert body == {
        "success": True,
        "inscricaoId": body["inscricaoId"],
        "status": "NEW",
        "message": None,
    }
    sistema = sandbox.inscriptions()[0]["sistema"]
    assert status_of(kroton, body["inscricaoId"], sistema)["status"] == "NEW"
    sandbox.advance(61)
    assert status_of(kroton, body["inscricaoId"], sistema)["classificacao"] is None
    assert status_of(kroton, body["inscricaoId"], sistema)["status"] == "PROCESSING"
    sandbox.advance(120)
    final = status_of(kroton, body["inscricaoId"], sistema)
    assert final["status"] == "SUCCESS"
    assert final["classificacao"] == {"descricao": "Inscrito"}


def test_async_registration_can_end_in_error(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    cpf = find_cpf(ends_in("ERROR"))
    inscricao_id = kroton.post(REGISTER_PATH, json=registration(cpf)).json()["inscricaoId"]
    sandbox.advance(200)
    sistema = sandbox.inscriptions()[0]["sistema"]
    final = status_of(kroton, inscricao_id, sistema)
    assert final["status"] == "ERROR"
    assert final["message"]
    # A failed registration is not active: the CPF can be registered again.
    assert kroton.post(REGISTER_PATH, json=registration(cpf)).status_code == 200


def test_share_of_immediate_successes_is_about_sixty_percent() -> None:
    cpfs = [make_cpf(500_000_000 + i) for i in range(2000)]
    shares = [immediate(lc.Inscription("0", c, "OLIMPO", "", "", [], "", 0.0)) for c in cpfs]
    assert 0.55 < sum(shares) / len(shares) < 0.65


def test_classification_moves_on_over_days_and_student_is_enrolled(
    kroton: httpx.Client, sandbox: SandboxServer
) -> None:
    cpf = find_cpf(fate("Inscrito", "Classificado", "Convocado", "Aluno"))
    body = kroton.post(REGISTER_PATH, json=registration(cpf)).json()
    assert body["status"] == "SUCCESS"

    def classification() -> str:
        items = kroton.get(CQRS_PATH.format(cpf)).json()["inscricoes"]
        assert len(items) == 1
        return items[0]["classificacao"]["descricao"]

    seen = [classification()]
    for days in (2, 3, 5):
        sandbox.advance(days * lc.DAY + 1)
        seen.append(classification())
    assert seen == ["Inscrito", "Classificado", "Convocado", "Aluno"]
    matriculas = kroton.get(MATRICULA_PATH.format(cpf)).json()["matriculas"]
    assert [m["situacao"] for m in matriculas] == ["ATIVA"]


def test_some_candidates_drop_out(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    cpf = find_cpf(fate("Inscrito", "Ausente"))
    kroton.post(REGISTER_PATH, json=registration(cpf))
    sandbox.advance(3 * lc.DAY)
    item = kroton.get(CQRS_PATH.format(cpf)).json()["inscricoes"][0]
    assert item["classificacao"]["descricao"] == "Ausente"
    assert kroton.get(MATRICULA_PATH.format(cpf)).json() == {"matriculas": []}


def test_cqrs_lookup_shape(kroton: httpx.Client) -> None:
    cpf = find_cpf(immediate)
    body = kroton.post(REGISTER_PATH, json=registration(cpf)).json()
    [item] = kroton.get(CQRS_PATH.format(cpf)).json()["inscricoes"]
    assert item["id"] == item["inscricaoId"] == body["inscricaoId"]
    assert item["status"] == "SUCCESS"
    assert item["sistema"] in ("OLIMPO", "COLABORAR")
    assert item["idAfiliado"] == "DL00QUERO12991"
    assert item["dataInscricao"].endswith("Z")
    assert item["curso"] and item["unidade"]


def test_preseeded_cpfs_are_known_and_conflict(kroton: httpx.Client) -> None:
    cpfs = [make_cpf(600_000_000 + i) for i in range(3000)]
    kinds = [preseeded_kind(SEED, c) for c in cpfs]
    assert 0.02 < kinds.count("inscribed") / len(cpfs) < 0.04
    assert 0.005 < kinds.count("enrolled") / len(cpfs) < 0.015
    inscribed = cpfs[kinds.index("inscribed")]
    enrolled = cpfs[kinds.index("enrolled")]
    [item] = kroton.get(CQRS_PATH.format(inscribed)).json()["inscricoes"]
    assert item["classificacao"]["descricao"] in ("Inscrito", "Classificado")
    [matricula] = kroton.get(MATRICULA_PATH.format(enrolled)).json()["matriculas"]
    assert matricula["situacao"] == "ATIVA"
    conflict = kroton.post(REGISTER_PATH, json=registration(inscribed))
    assert conflict.status_code == 409
    assert conflict.json()["message"] == "CPF já possui inscrição ativa"
    assert conflict.json()["inscricaoId"] == item["inscricaoId"]
    assert kroton.post(REGISTER_PATH, json=registration(enrolled)).status_code == 409


def test_manual_preseed_creates_enrolment(kroton: httpx.Client, sandbox: SandboxServer) -> None:
    cpf = find_cpf(immediate)
    sandbox.preseed(cpf, enrolled=True)
    [item] = kroton.get(CQRS_PATH.format(cpf)).json()["inscricoes"]
    assert item["classificacao"]["descricao"] == "Aluno"
    assert kroton.get(MATRICULA_PATH.format(cpf)).json()["matriculas"][0]["situacao"] == "ATIVA"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("dadosPessoais", "cpf"), "378.457.608-71", "dadosPessoais.cpf"),
        (("dadosPessoais", "sexo"), "X", "dadosPessoais.sexo"),
        (("dadosPessoais", "email"), "", "dadosPessoais.email"),
        (("dadosPessoais", "dataNascimento"), "2001-02-30", "dadosPessoais.dataNascimento"),
        (("dadosPessoais", "endereco", "cep"), None, "dadosPessoais.endereco.cep"),
        (
            ("inscricao", "ofertas", "primeiraOpcao", "id"),
            "1-2-3",
            "inscricao.ofertas.primeiraOpcao",
        ),
    ],
)
def test_invalid_payload_is_422_naming_the_field(
    kroton: httpx.Client, path: tuple[str, ...], value: object, field: str
) -> None:
    payload = registration(find_cpf(immediate))
    target = payload
    for part in path[:-1]:
        target = target[part]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    reply = kroton.post(REGISTER_PATH, json=payload)
    assert reply.status_code == 422
    body = reply.json()
    assert body["success"] is False and body["status"] == "ERROR"
    assert field in body["message"]
    assert any(field in error for error in body["errors"])
    if isinstance(value, str) and value:
        assert value not in reply.text  # personal data is never echoed


def test_inactive_offer_is_rejected(kroton: httpx.Client) -> None:
    inactive = next(o for o in Catalog().offers if not o["ativa"])
    payload = registration(find_cpf(immediate))
    payload["inscricao"]["ofertas"]["segundaOpcao"]["id"] = inactive["id"]
    reply = kroton.post(REGISTER_PATH, json=payload)
    assert reply.status_code == 422
    assert "segundaOpcao" in reply.json()["message"]


def test_unknown_inscription_status_is_404(kroton: httpx.Client) -> None:
    reply = kroton.get(STATUS_PATH.format("999", "OLIMPO"))
    assert reply.status_code == 404
    assert "message" in reply.json()


def test_cpf_lookup_needs_eleven_digits(kroton: httpx.Client) -> None:
    assert kroton.get(CQRS_PATH.format("123")).status_code == 400
