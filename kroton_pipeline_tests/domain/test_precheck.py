"""The check before registering: only a student or an active inscription of the current
intake stops a registration; stale, failed, absent or disqualified ones do not."""

from __future__ import annotations

from datetime import date, datetime

from kroton_pipeline.domain.kroton_api import (
    Enrolments,
    Inscription,
    InscriptionsAnswer,
    PrecheckRules,
    needs_enrolment_check,
    precheck,
)
from kroton_pipeline.domain.statuses import Status

TODAY = date(2026, 11, 30)
RULES = PrecheckRules(stale_after_days=365)
RECENT = datetime(2026, 10, 1)
OLD = datetime(2024, 9, 1)


def ins(classification: str | None, processing: str = "SUCCESS", when=RECENT, **kw) -> Inscription:
    return Inscription(
        inscription_id="1", classification=classification, processing=processing,
        inscribed_at=when, **kw,
    )  # fmt: skip


def answer(*items: Inscription) -> InscriptionsAnswer:
    return InscriptionsAnswer(tuple(items))


def test_someone_already_enrolled_is_followed_never_registered() -> None:
    decision = precheck(answer(ins("Aluno", when=OLD)), None, TODAY, RULES)
    assert decision.follow and decision.status is Status.ENROLLED
    by_ra = precheck(answer(ins("Inscrito", student_ra="123")), None, TODAY, RULES)
    assert by_ra.follow and by_ra.status is Status.ENROLLED
    by_lookup = precheck(answer(ins("Ausente")), Enrolments(("M1",)), TODAY, RULES)
    assert by_lookup.follow and by_lookup.why == "student at Kroton"


def test_an_active_inscription_of_the_current_intake_is_followed() -> None:
    decision = precheck(answer(ins("Classificado")), None, TODAY, RULES)
    assert decision.follow and decision.status is Status.REGISTERED
    assert decision.why == "active inscription of the current intake"
    pending = precheck(answer(ins(None, processing="PROCESSING")), None, TODAY, RULES)
    assert pending.follow and pending.status is Status.AWAITING_REGISTER


def test_an_unknown_classification_is_followed_not_registered_again() -> None:
    decision = precheck(answer(ins("Em análise")), None, TODAY, RULES)
    assert decision.follow and decision.status is None


def test_absent_disqualified_failed_or_stale_inscriptions_do_not_block_a_new_registration() -> None:
    decision = precheck(
        answer(
            ins("Ausente"),
            ins("Desclassificado por nota"),
            ins(None, processing="ERROR"),
            ins("Inscrito", when=OLD),
        ),
        None,
        TODAY,
        RULES,
    )
    assert not decision.follow
    assert decision.why == "earlier inscriptions ignored: 2 dropped, 1 failed, 1 stale"


def test_nobody_at_kroton_is_registered() -> None:
    assert not precheck(answer(), None, TODAY, RULES).follow


def test_the_staleness_threshold_is_a_setting() -> None:
    old_live = answer(ins("Inscrito", when=OLD))
    assert precheck(old_live, None, TODAY, PrecheckRules(stale_after_days=1000)).follow


def test_enrolments_are_asked_only_when_they_could_change_the_decision() -> None:
    assert needs_enrolment_check(answer(ins("Ausente")), TODAY, RULES)
    assert not needs_enrolment_check(answer(ins("Inscrito")), TODAY, RULES)  # followed anyway
    assert not needs_enrolment_check(answer(), TODAY, RULES)  # unknown to Kroton: no request
    v5 = Inscription(inscription_id="1", classification="Ausente", says_enrolment=True)
    assert not needs_enrolment_check(answer(v5), TODAY, RULES)  # the answer tells
