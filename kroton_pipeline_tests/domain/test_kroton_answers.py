"""Kroton's answers in both dialects, read into views, and what each means for a lead.

The answers are hand-written fixtures (fake people) in the shapes of the design document
and of production integrations: ``kroton_pipeline_tests/clients/kroton_answers/``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kroton_pipeline.domain.kroton_api import (
    AnswerShapeError,
    Enrolments,
    InscriptionsAnswer,
    needs_enrolment_lookup,
    parse_enrolments,
    parse_inscription_state,
    parse_inscriptions,
    parse_registration,
    person_status,
    status_for_classification,
)
from kroton_pipeline.domain.statuses import Status

ANSWERS = Path(__file__).parents[1] / "clients" / "kroton_answers"


def answer(name: str) -> Any:
    return json.loads((ANSWERS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("classification", "status"),
    [
        ("Aluno", Status.ENROLLED),
        ("ALUNO", Status.ENROLLED),
        ("Convocado", Status.ENROLLED),
        ("Classificado", Status.REGISTERED),
        ("inscrito", Status.REGISTERED),
        ("Itinerante", Status.REGISTERED),
        ("INSCRITO VG ONLINE", Status.REGISTERED),
        ("Inscrito  VG  Online ", Status.REGISTERED),
        ("Ausente", Status.DROPPED),
        ("Desclassificado", Status.DROPPED),
        ("Desclassificado por nota", Status.DROPPED),
        ("DESCLASSIFICADO POR NOTA - Novo", Status.DROPPED),
        ("Aluno Transferido", Status.ENROLLED),
    ],
)
def test_classifications_are_matched_without_regard_to_case_accents_or_spacing(
    classification: str, status: Status
) -> None:
    assert status_for_classification(classification) is status


@pytest.mark.parametrize("classification", ["Em análise", "Alunos", "", "   ", None])
def test_an_unknown_classification_means_no_status(classification: str | None) -> None:
    assert status_for_classification(classification) is None


def test_v5_lookup_is_a_top_level_array_of_nested_items() -> None:
    read = parse_inscriptions(answer("v5/cpf_student_and_old_disqualified.json"))
    student, old = read.inscriptions
    assert student.inscription_id == "1234567" and student.system == "COLABORAR"
    assert student.business_key.startswith("CPF_")
    assert student.student_ra == "37160111" and student.says_enrolment
    assert student.inscribed_at == datetime(2024, 2, 10, 9, 15)
    assert old.system == "ATHENAS" and old.classification == "Desclassificado por nota"
    assert old.status is Status.DROPPED and old.student_ra is None
    assert read.best() is student and student.status is Status.ENROLLED
    assert read.says_enrolment and not needs_enrolment_lookup(read)


def test_v5_none_found_is_an_empty_array() -> None:
    read = parse_inscriptions(answer("v5/cpf_none.json"))
    assert read.inscriptions == () and read.best() is None and read.raw == []


def test_v5_candidate_with_an_empty_matricula_is_not_a_student() -> None:
    (candidate,) = parse_inscriptions(answer("v5/cpf_candidate.json")).inscriptions
    assert candidate.student_ra is None and candidate.says_enrolment
    assert candidate.status is Status.REGISTERED
    assert candidate.inscription_id == "555001"


def test_v5_inscription_by_id_is_one_object() -> None:
    read = parse_inscription_state(answer("v5/by_id.json"))
    (ins,) = read.inscriptions
    assert ins.inscription_id == "555001" and ins.status is Status.ENROLLED  # Convocado


def test_source_lookup_reads_flat_items() -> None:
    read = parse_inscriptions(answer("source/cpf_inscribed.json"))
    live, dropped = read.inscriptions
    assert live.inscription_id == "20000001" and live.dealer_id == "DL00QUERO12991"
    assert live.processing == "SUCCESS" and live.status is Status.REGISTERED
    assert dropped.status is Status.DROPPED
    assert read.best() is live
    assert not read.says_enrolment
    assert parse_inscriptions(answer("source/cpf_none.json")).inscriptions == ()


def test_source_processing_error_is_failed_with_krotons_message() -> None:
    (ins,) = parse_inscription_state(answer("source/status_error.json")).inscriptions
    assert ins.status is Status.FAILED
    assert ins.message == "Falha no processamento da inscrição"


def test_ids_may_be_numbers_or_strings() -> None:
    for body in ({"inscricaoId": 20000005, "status": "NEW"}, {"inscricaoId": "20000005"}):
        assert parse_inscription_state(body).inscriptions[0].inscription_id == "20000005"
    assert parse_inscription_state({"idOrigem": 1.2e7}).inscriptions[0].inscription_id == (
        "12000000"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"unexpected": []},
        "not json",
        [{"nothing": "known"}],
        {"inscricoes": "not a list"},
        [1, 2],
    ],
)
def test_an_answer_of_neither_dialect_is_an_error_naming_no_values(body: Any) -> None:
    with pytest.raises(AnswerShapeError) as caught:
        parse_inscriptions(body)
    assert "known" not in str(caught.value)


def test_registration_answers_need_no_success_field() -> None:
    created = parse_registration(answer("v5/register_created.json"))
    assert created.accepted and created.inscription.inscription_id == "777002"
    assert created.status is Status.AWAITING_REGISTER
    empty = parse_registration(None)
    assert empty.accepted and empty.inscription.inscription_id is None
    assert empty.status is Status.AWAITING_REGISTER  # accepted, to be seen by a look-up
    accepted = parse_registration(answer("source/register_accepted.json"))
    assert accepted.accepted and accepted.inscription.inscription_id == "20000004"
    refused = parse_registration(answer("source/register_refused.json"))
    assert not refused.accepted and refused.errors == ("dadosPessoais.sexo: deve ser M ou F",)
    success = parse_registration({"success": True, "inscricaoId": "1", "status": "SUCCESS"})
    assert success.status is Status.REGISTERED


def test_enrolments_active_by_situation_or_ra() -> None:
    assert parse_enrolments(answer("source/matriculas_active.json")).student
    assert not parse_enrolments({"matriculas": []}).student
    assert parse_enrolments([{"id": 1, "ra": "123"}]).student
    assert not parse_enrolments([{"id": 1, "situacao": "CANCELADA"}]).student


def test_enrolment_lookup_is_asked_only_when_every_inscription_failed_and_the_answer_is_silent():
    failed = parse_inscriptions({"inscricoes": [{"inscricaoId": "1", "status": "ERROR"}]})
    live = parse_inscriptions(answer("source/cpf_inscribed.json"))
    v5_failed = parse_inscriptions(
        [{"inscricao": {"idOrigem": 1}, "processamento": {"status": "ERROR"}, "matricula": None}]
    )
    assert needs_enrolment_lookup(failed)
    assert not needs_enrolment_lookup(live)
    assert not needs_enrolment_lookup(v5_failed)  # the answer itself tells (matricula)
    assert not needs_enrolment_lookup(InscriptionsAnswer(()))
    assert person_status(failed, Enrolments(("M1",))) is Status.ENROLLED
    assert person_status(failed, Enrolments(())) is Status.FAILED


def test_unknown_classification_ranks_after_live_and_before_dropped_inscriptions() -> None:
    read = parse_inscriptions(
        {
            "inscricoes": [
                {
                    "inscricaoId": "1",
                    "status": "SUCCESS",
                    "classificacao": {"descricao": "Ausente"},
                },
                {"inscricaoId": "2", "status": "SUCCESS", "classificacao": {"descricao": "Novo?"}},
            ]
        }
    )
    best = read.best()
    assert best is not None and best.inscription_id == "2" and best.unknown_classification


def test_a_processing_error_in_the_answer_fails_the_inscription_a_refusal_fails_the_request():
    processed = parse_registration({"success": True, "inscricaoId": "9", "status": "ERROR"})
    assert processed.accepted and processed.status is Status.FAILED  # failed, not register_failed
    refused = parse_registration({"success": False, "status": "ERROR", "message": "Dados"})
    assert not refused.accepted
