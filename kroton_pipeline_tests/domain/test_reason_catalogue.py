"""Every status reason and rejection code has one catalogue entry: a meaning and an action."""

from __future__ import annotations

from kroton_pipeline.domain.reason_catalogue import (
    CATALOGUE,
    STATUS_MEANINGS,
    Action,
    reason_detail,
    rejection_info,
    status_reason_info,
)
from kroton_pipeline.domain.rejections import RejectionReason
from kroton_pipeline.domain.statuses import Status, StatusReason, reason


def test_every_status_reason_and_rejection_code_has_an_entry() -> None:
    codes = {r.value for r in StatusReason} | {r.value for r in RejectionReason}
    assert set(CATALOGUE) == codes
    assert len(codes) == len(StatusReason) + len(RejectionReason)  # no code is both kinds
    assert {info.code for info in CATALOGUE.values() if info.kind == "status"} == {
        r.value for r in StatusReason
    }


def test_every_entry_is_one_line_with_an_action() -> None:
    for info in CATALOGUE.values():
        for text in (info.meaning, info.action):
            assert text and "\n" not in text and text[0].isupper() and text.endswith(".")
        assert isinstance(info.action_kind, Action)


def test_replayable_reasons_name_the_replay_reason() -> None:
    for info in CATALOGUE.values():
        if info.action_kind is Action.REPLAY:
            assert f"replay with reason {info.code}" in info.action.lower()


def test_rejections_that_need_a_data_fix_say_fix_the_export() -> None:
    fixes = [i for i in CATALOGUE.values() if i.action_kind is Action.FIX_EXPORT]
    assert fixes and all(i.kind == "rejection" for i in fixes)
    assert all("fix the export" in i.action.lower() for i in fixes)


def test_every_status_has_a_meaning() -> None:
    assert set(STATUS_MEANINGS) == set(Status)


def test_stored_reasons_are_read_back_with_their_detail() -> None:
    stored = reason(StatusReason.KROTON_REJECTED, "CPF inválido")
    info = status_reason_info(stored)
    assert info is not None and info.code == "kroton_rejected"
    assert reason_detail(stored) == "CPF inválido"
    assert status_reason_info("something else") is None
    assert status_reason_info(None) is None
    assert reason_detail("imported") is None
    assert rejection_info("invalid_cpf") is not None
    assert rejection_info("imported") is None  # a status reason, not a rejection code
