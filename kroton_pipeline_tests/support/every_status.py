"""One person per story the look-up must tell: a lead in every status, a rejected-only person,
a returning one and an erased one, written by ``leads.LeadBook`` on a controlled clock."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.lead import main
from kroton_pipeline.settings import erasure_keys
from kroton_pipeline.steps.erasure import erase_person
from kroton_pipeline_tests.support.leads import (
    IMPORT_DATE,
    IMPORTED_AT,
    STEP,
    LeadBook,
    assert_no_personal_data,
)

S = Status
NOW = IMPORTED_AT + timedelta(hours=2)
NEXT_DAY = IMPORT_DATE + timedelta(days=1)
REGISTERED = (S.TO_REGISTER, "offers_found"), (S.AWAITING_REGISTER, "registration_accepted: NEW")
ACCEPTED = {"success": True, "inscricaoId": "7001", "status": "NEW", "message": None}
INSCRIBED = {
    "inscricaoId": "7001",
    "status": "SUCCESS",
    "classificacao": {"descricao": "Inscrito"},
    "sistema": "OLIMPO",
}
SENT_WITH_OPTIONS = (
    "to_register",
    "unknown_outcome",
    "awaiting_register",
    "registered",
    "register_failed",
    "failed",
)


@dataclass
class Leads:
    engine: Engine
    ids: dict[str, int]
    rows: dict[str, dict[str, Any]]

    def look_up(self, *args: str, stdin: str | None = None) -> tuple[int, str]:
        out = io.StringIO()
        code = main(
            list(args), engine=self.engine, stdin=io.StringIO(stdin or ""), stdout=out, now=NOW
        )
        return code, out.getvalue()

    def story(self, name: str) -> str:
        """The story of lead ``name`` looked up by its CPF typed at the prompt."""
        code, told = self.look_up(stdin=self.rows[name]["cpf"] + "\n")
        assert code == 0, told
        assert_no_personal_data(told, *self.rows.values())
        return told


def write_leads(engine: Engine) -> Leads:
    """One lead per status, a rejected-only person, a returning one and an erased one."""
    ids: dict[str, int] = {}
    offers, found = (S.TO_REGISTER, "offers_found"), (S.REGISTERED, "found_at_kroton")
    with engine.begin() as conn:
        book = LeadBook(conn)
        ids["to_sync"] = book.lead(1)
        ids["course_failed"] = book.lead(2, (S.COURSE_FAILED, "catalog_failed: ReadTimeout"))
        book.set(ids["course_failed"], attempts=2, last_error="catalog: ReadTimeout")
        ids["empty_course"] = book.lead(3, (S.EMPTY_COURSE, "no_offers"))
        ids["to_register"] = book.lead(4, offers)
        ids["unknown_outcome"] = book.lead(5, offers)
        book.set(ids["unknown_outcome"], sent_at=IMPORTED_AT + timedelta(minutes=30))

        ids["awaiting_register"] = book.lead(6, *REGISTERED)
        last_answer = NOW - timedelta(minutes=3)
        book.set(
            ids["awaiting_register"],
            kroton_subscription_id="7001",
            kroton_system="OLIMPO",
            sent_at=NOW - timedelta(minutes=4),
            last_check=last_answer,
        )
        book.answer(ids["awaiting_register"], ACCEPTED, last_answer, "7001")

        ids["registered"] = book.lead(7, *REGISTERED, (S.REGISTERED, "processing_succeeded"))
        looked = datetime(2026, 12, 1, 10, 0)
        book.set(
            ids["registered"],
            kroton_subscription_id="7001",
            kroton_system="OLIMPO",
            kroton_classification="Inscrito",
            next_check_on=date(2026, 12, 3),
            last_check=looked,
        )
        book.answer(ids["registered"], {"inscricoes": [INSCRIBED]}, looked, "7001")
        book.snapshot(ids["registered"], date(2026, 12, 1), "Inscrito", S.REGISTERED)

        # Kroton's refusal quotes the person's CPF and birth date: the look-up masks them.
        ids["register_failed"] = book.lead(8, offers)
        row = book.row(ids["register_failed"])
        refusal = f"kroton_rejected: CPF {row['cpf']} nascido em {row['birthday']} recusado"
        change = StatusChange(row["id"], S.REGISTER_FAILED, refusal)
        apply_status_changes(conn, [change], "run-8", IMPORTED_AT + 2 * STEP)

        ids["enrolled"] = book.lead(9, offers, found, (S.ENROLLED, "follow_up: Aluno"))
        ids["dropped"] = book.lead(10, offers, found, (S.DROPPED, "follow_up: Ausente"))
        book.set(ids["dropped"], kroton_classification="Ausente")
        error = (S.FAILED, "processing_error: Falha no processamento")
        ids["failed"] = book.lead(11, *REGISTERED, error)
        for name in SENT_WITH_OPTIONS:
            book.options(ids[name])

        book.rejection(12, IMPORT_DATE, 40, "invalid_email", "not an e-mail address")
        book.rejection(12, NEXT_DAY, 9, "invalid_phone")
        # Person 13 ended without success, then came back in the next day's export.
        ids["returned_from"] = book.lead(13, (S.EMPTY_COURSE, "no_offers"))
        ids["returning"] = book.lead(
            13, offers, at=IMPORTED_AT + timedelta(days=1), import_date=NEXT_DAY,
            attempt_number=2, row_number=4,
        )  # fmt: skip
        book.rejection(13, NEXT_DAY, 5, "duplicate_cpf_in_file", "the CPF appears earlier")
        ids["erased"] = book.lead(14, *REGISTERED)
        rows = {name: book.row(sub_id) for name, sub_id in ids.items()}
    rows["rejected_only"] = book.person(12)
    erase_person(engine, rows["erased"]["cpf"], "run-erase", keys=erasure_keys())
    return Leads(engine, ids, rows)
