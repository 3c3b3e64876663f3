"""The support look-up tells one person's whole story, masked, for a lead in every status.

Leads are written the way the pipeline writes them (``leads.LeadBook``: the import's first
history row, then the state machine on a controlled clock); the look-up runs as the command
line runs it (``kroton_pipeline.lead.main``), a CPF coming through stdin as from the prompt.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.lead import main, parse_reference
from kroton_pipeline_tests.support.every_status import (
    NEXT_DAY,
    NOW,
    REGISTERED,
    Leads,
    write_leads,
)
from kroton_pipeline_tests.support.leads import (
    IMPORTED_AT,
    LeadBook,
    assert_no_personal_data,
    valid_cpf,
)

S = Status


@pytest.fixture
def leads(sqlite_url: str) -> Iterator[Leads]:
    engine = make_engine(sqlite_url)
    yield write_leads(engine)
    engine.dispose()


STORIES: dict[str, list[str]] = {
    "to_sync": [
        "Attempt 1 of 1", "(new) -> to_sync", "imported                      run run-import",
        "Next: waiting for the gender fill and the course search: the next all_jobs or retry "
        "run of import date 2026-11-28 takes it.",
    ],
    "course_failed": [
        "Status:  course_failed (catalog_failed: ReadTimeout)",
        "Transient failures: 2, last error: catalog: ReadTimeout",
        "Next: the catalog search failed; the retry pass of import date 2026-11-28 searches again",
    ],
    "empty_course": [
        "Reason:  The catalog has fewer than two open offers",
        "Next: ended: no two open offers match the lead's course; nothing more happens.",
    ],
    "to_register": [
        "1. offer offer-", "Administração, Campus 1 (Noite), registrations until 2026-12-20",
        "2. offer offer-", "Campus 2 (Noite), registrations until 2027-01-15",
        "Next: waiting to be sent to Kroton: the next register, all_jobs or retry run of "
        "import date 2026-11-28 sends it.",
    ],
    "unknown_outcome": [
        "Next: a registration was sent on 2026-11-28 and no answer was recorded: the next "
        "registration pass settles it with a CPF look-up (it is never sent twice).",
    ],
    "awaiting_register": [
        "Kroton:  inscription 7001 (OLIMPO)", "latest answer", "processing NEW",
        "to_register -> awaiting_register", "registration_accepted: NEW",
        "Next: waiting for Kroton's processing; next poll in ~7 min, by the next registration "
        "pass of 2026-11-28.",
    ],
    "registered": [
        "classification Inscrito", "2026-12-01        snapshot      processing SUCCESS, "
        "classification Inscrito, -> registered", "next planned look-up: 2026-12-03",
        "Next: registered: next follow-up on 2026-12-03.",
    ],
    "register_failed": [
        "Status:  register_failed (kroton_rejected: CPF ***.",
        "Next: register_failed (kroton_rejected): fix what Kroton names, then replay with "
        "reason kroton_rejected (job replay_register_failed, import date 2026-11-28).",
    ],
    "enrolled": ["registered -> enrolled", "Next: enrolled: a success; nothing more happens."],
    "dropped": [
        "follow_up: Ausente",
        "Next: ended: Kroton classified the candidate Ausente; nothing more happens.",
    ],
    "failed": [
        "processing_error: Falha no processamento",
        "Next: ended: Kroton's processing failed; ask Kroton about the message",
    ],
    "rejected_only": [
        "0 attempt(s), 2 export row(s)",
        "2026-11-28 row 40: rejected, invalid_email (not an e-mail address)",
        "2026-11-29 row 9: rejected, invalid_phone",
        "Fix the export: correct the value at the source",
        "No subscription: every exported row naming this person was rejected.",
    ],
    "returning": [
        "2 attempt(s), 3 export row(s)",
        "2026-11-28 row 13: imported as subscription",
        "2026-11-29 row 4: imported as subscription",
        "(attempt 2)",
        "2026-11-29 row 5: rejected, duplicate_cpf_in_file",
        "Attempt 1 of 2",
        "to_sync -> empty_course",
        "Attempt 2 of 2",
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(STORIES))
def test_look_up_tells_the_story_of_a_lead_in_each_status(leads: Leads, name: str) -> None:
    told = leads.story(name)
    for expected in STORIES[name]:
        assert expected in told, f"{expected!r} missing from:\n{told}"
    if name != "rejected_only":
        status = leads.rows[name]["status"]
        assert f"Status:  {status} " in told


def test_story_lists_export_rows_then_attempts_in_order(leads: Leads) -> None:
    told = leads.story("returning")
    order = ["Export rows naming", "2026-11-28 row 13", "2026-11-29 row 4", "Attempt 1 of 2",
             "Status changes:", "Course options:", "Kroton:", "Next:",
             "Attempt 2 of 2"]  # fmt: skip
    positions = [told.index(part) for part in order]
    assert positions == sorted(positions)


def test_look_up_by_subscription_id_tells_the_same_story(leads: Leads) -> None:
    code, by_id = leads.look_up(str(leads.ids["registered"]))
    assert code == 0
    assert by_id == leads.story("registered")


def test_erased_person_shows_only_that_they_were_erased(leads: Leads) -> None:
    erased = leads.rows["erased"]
    for args, stdin in (((), erased["cpf"]), ((str(leads.ids["erased"]),), None)):
        code, told = leads.look_up(*args, stdin=stdin)
        assert code == 0
        assert told.startswith("Erased on request (LGPD)")
        assert "Attempt" not in told and "Status" not in told and "Kroton" not in told
        assert_no_personal_data(told, erased)


def test_unknown_person_is_not_found_without_repeating_the_cpf(leads: Leads) -> None:
    cpf = valid_cpf(99)
    code, told = leads.look_up(stdin=cpf)
    assert code == 1 and cpf not in told
    assert leads.look_up("987654") == (1, "Not found: no subscription 987654.\n")


def test_a_reference_that_is_neither_cpf_nor_id_is_refused(
    leads: Leads, capsys: pytest.CaptureFixture[str]
) -> None:
    assert leads.look_up(stdin="123.456.78\n")[0] == 2
    assert "123.456.78" not in capsys.readouterr().err
    assert parse_reference(" 123.456.789-09 ") == ("12345678909", None)
    assert parse_reference("4182") == (None, 4182)
    assert parse_reference("x0000000014") == ("X0000000014", None)


def test_show_personal_data_is_logged_with_ids_never_the_data(
    leads: Leads, caplog: pytest.LogCaptureFixture
) -> None:
    row = leads.rows["registered"]
    with caplog.at_level(logging.INFO):
        code, told = leads.look_up("--show-personal-data", row["cpf"])
    assert code == 0
    assert row["cpf"] in told and row["email"] in told and row["user_name"] in told
    logged = [r for r in caplog.records if r.name == "kroton_pipeline.lead"]
    assert len(logged) == 1
    assert f"subscriptions [{row['id']}]" in logged[0].getMessage()
    assert_no_personal_data(caplog.text, *leads.rows.values())


def test_a_cpf_given_as_argument_never_reaches_the_logs(
    leads: Leads, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        code, told = leads.look_up(leads.rows["registered"]["cpf"])
    assert code == 0
    assert_no_personal_data(caplog.text + told, *leads.rows.values())


UNIQUE_CPF = "uq_subscriptions_cpf"


def test_returning_person_shows_every_attempt_in_id_order(engine: Engine) -> None:
    cpf = valid_cpf(20)
    with engine.begin() as conn:
        first = LeadBook(conn).lead(20, (S.EMPTY_COURSE, "no_offers"))

    with engine.begin() as conn:
        later = IMPORTED_AT + timedelta(days=1)
        second = LeadBook(conn).lead(
            20, *REGISTERED, import_date=NEXT_DAY, at=later, cpf=cpf, attempt_number=2
        )
    out = io.StringIO()
    assert main([], engine=engine, stdin=io.StringIO(cpf), stdout=out, now=NOW) == 0
    told = out.getvalue()
    assert "2 attempt(s), 2 export row(s)" in told
    assert f"2026-11-28 row 20: imported as subscription {first} (attempt 1)" in told
    assert f"2026-11-29 row 20: imported as subscription {second} (attempt 2)" in told
    assert told.index(f"Attempt 1 of 2: subscription {first}") < told.index(
        f"Attempt 2 of 2: subscription {second}"
    )
    assert "Next: ended: no two open offers" in told and "waiting for Kroton's processing" in told
    by_id = io.StringIO()
    assert main([str(first)], engine=engine, stdout=by_id, now=NOW) == 0
    assert by_id.getvalue() == told


def test_stories_read_the_same_on_sqlite_and_postgresql(leads: Leads, postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        on_postgres = write_leads(engine)
        assert on_postgres.ids == leads.ids
        for name in STORIES:
            assert on_postgres.story(name) == leads.story(name)
    finally:
        engine.dispose()
