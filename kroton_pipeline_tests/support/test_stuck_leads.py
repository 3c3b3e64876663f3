"""Stuck leads are found on a controlled clock: the report fires, then clears.

Stuck: still before ``registered`` more than 24 h after import, or ``awaiting_register``
more than 6 h (both settings). Leads that ended (``empty_course``, ``register_failed``...) are
never stuck. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
from datetime import UTC, timedelta

import pytest
from sqlalchemy import Engine

from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.reporting.stuck_leads import StuckLeads, find_stuck_leads, stuck_leads_by_date
from kroton_pipeline.settings import SettingsError, StuckThresholds, load_settings
from kroton_pipeline.support.stuck import main as stuck_command
from kroton_pipeline_tests.support.leads import IMPORT_DATE, IMPORTED_AT, STEP, LeadBook

S = Status
NEXT_DAY = IMPORT_DATE + timedelta(days=1)
OFFERS = (S.TO_REGISTER, "offers_found")
SENT = (S.AWAITING_REGISTER, "registration_accepted: NEW")
DEFAULTS = StuckThresholds()


@pytest.fixture
def leads(engine: Engine) -> dict[str, int]:
    """Import date 1: one lead per pending status and some that are settled; date 2: one."""
    with engine.begin() as conn:
        book = LeadBook(conn)
        return {
            "to_sync": book.lead(1),
            "course_failed": book.lead(2, (S.COURSE_FAILED, "catalog_failed: ReadTimeout")),
            "to_register": book.lead(3, OFFERS),
            "awaiting": book.lead(4, OFFERS, SENT),  # awaiting since IMPORTED_AT + 2 STEPs
            "registered": book.lead(5, OFFERS, SENT, (S.REGISTERED, "processing_succeeded")),
            "empty_course": book.lead(6, (S.EMPTY_COURSE, "no_offers")),
            "register_failed": book.lead(7, OFFERS, (S.REGISTER_FAILED, "kroton_rejected: x")),
            "next_day": book.lead(8, import_date=NEXT_DAY, at=IMPORTED_AT + timedelta(days=1)),
        }


def stuck_at(engine: Engine, hours: float, thresholds: StuckThresholds = DEFAULTS) -> StuckLeads:
    with engine.connect() as conn:
        return find_stuck_leads(conn, IMPORTED_AT + timedelta(hours=hours), thresholds)


def test_nothing_is_stuck_before_the_thresholds(engine: Engine, leads: dict[str, int]) -> None:
    result = stuck_at(engine, 5)
    assert not result.fires and result.total == 0
    assert result.markdown() == "No stuck leads." and result.summary() == "no stuck leads"


def test_awaiting_register_too_long_fires_first(engine: Engine, leads: dict[str, int]) -> None:
    entered = 2 * STEP.total_seconds() / 3600
    assert not stuck_at(engine, 6 + entered - 0.01).fires
    result = stuck_at(engine, 6 + entered + 0.01)
    assert result.fires
    assert (result.total, result.past_deadline, result.awaiting_too_long) == (1, 0, 1)
    assert result.ids == (leads["awaiting"],)
    [group] = result.groups
    assert (group.status, group.reason, group.leads) == (
        "awaiting_register",
        "registration_accepted",
        1,
    )


def test_leads_not_registered_a_day_after_import_fire_per_import_date(
    engine: Engine, leads: dict[str, int]
) -> None:
    result = stuck_at(engine, 24.5)
    pending = ["to_sync", "course_failed", "to_register", "awaiting"]
    assert result.ids == tuple(sorted(leads[name] for name in pending))
    assert (result.total, result.past_deadline, result.awaiting_too_long) == (4, 4, 1)
    assert [(g.status, g.reason, g.leads) for g in result.groups] == [
        ("to_sync", "-", 1),  # the import gives no reason
        ("course_failed", "catalog_failed", 1),
        ("to_register", "offers_found", 1),
        ("awaiting_register", "registration_accepted", 1),
    ]
    assert result.by_date == {IMPORT_DATE: 4}

    with engine.connect() as conn:
        later = stuck_leads_by_date(conn, IMPORTED_AT + timedelta(hours=48.5))
        one_date = find_stuck_leads(
            conn, IMPORTED_AT + timedelta(hours=48.5), import_dates=[NEXT_DAY]
        )
    assert sorted(later) == [IMPORT_DATE, NEXT_DAY]
    assert later[NEXT_DAY].ids == (leads["next_day"],) and later[IMPORT_DATE].total == 4
    assert one_date.ids == (leads["next_day"],) and one_date.import_dates == (NEXT_DAY,)


def test_the_table_says_what_to_do_and_lists_the_ids(engine: Engine, leads: dict[str, int]) -> None:
    table = stuck_at(engine, 24.5).markdown()
    assert table.startswith("**4 stuck lead(s): 4 not registered 24 h after import, 1 awaiting")
    assert "| leads | not registered after 24 h | awaiting over 6 h | what to check |" in table
    assert "| `course_failed` | `catalog_failed` | 1 | 1 | 0 | The catalog search keeps" in table
    assert f"Subscription ids: {leads['to_sync']}, " in table
    assert "python -m kroton_pipeline.lead" in table


def test_stuck_leads_clear_once_they_move_on(engine: Engine, leads: dict[str, int]) -> None:
    now = IMPORTED_AT + timedelta(hours=25)
    assert stuck_at(engine, 25).fires
    moves = [
        StatusChange(leads["to_sync"], S.EMPTY_COURSE, "no_offers"),
        StatusChange(leads["course_failed"], S.TO_REGISTER, "offers_found"),
        StatusChange(leads["to_register"], S.REGISTERED, "found_at_kroton"),
        StatusChange(leads["awaiting"], S.REGISTERED, "processing_succeeded"),
    ]
    with engine.begin() as conn:
        apply_status_changes(conn, moves, "run-later", now)
    still = stuck_at(engine, 25)
    assert still.ids == (leads["course_failed"],)  # to_register now, still a day after import
    with engine.begin() as conn:
        change = StatusChange(leads["course_failed"], S.AWAITING_REGISTER, "registration_accepted")
        apply_status_changes(conn, [change], "run-later", now)
    assert stuck_at(engine, 25).fires  # awaiting, and imported over 24 h ago
    with engine.begin() as conn:
        change = StatusChange(leads["course_failed"], S.REGISTERED, "processing_succeeded")
        apply_status_changes(conn, [change], "run-later", now)
    assert not stuck_at(engine, 25).fires


def test_thresholds_are_settings(engine: Engine, leads: dict[str, int]) -> None:
    patient = StuckThresholds(after_hours=48, awaiting_hours=30)
    assert not stuck_at(engine, 24.5, patient).fires
    assert stuck_at(engine, 30.5, patient).ids == (leads["awaiting"],)
    aware_now = (IMPORTED_AT + timedelta(hours=24.5)).replace(tzinfo=UTC)
    with engine.connect() as conn:
        assert find_stuck_leads(conn, aware_now).total == 4

    settings = load_settings({"KROTON_STUCK_AFTER_HOURS": "12", "KROTON_STUCK_AWAITING_HOURS": "2"})
    assert settings.stuck == StuckThresholds(after_hours=12, awaiting_hours=2)
    assert load_settings({}).stuck == StuckThresholds(after_hours=24, awaiting_hours=6)
    with pytest.raises(SettingsError, match="KROTON_STUCK_AFTER_HOURS"):
        load_settings({"KROTON_STUCK_AFTER_HOURS": "soon"})


def test_stuck_command_prints_each_date_and_fails_when_any(
    engine: Engine, leads: dict[str, int]
) -> None:
    now = IMPORTED_AT + timedelta(hours=25)
    out = io.StringIO()
    assert stuck_command([], engine=engine, stdout=out, now=now) == 1
    assert out.getvalue().startswith("## Import date 2026-11-28\n\n**4 stuck lead(s)")
    out = io.StringIO()
    assert stuck_command(["--date", "2026-11-29"], engine=engine, stdout=out, now=now) == 0
    assert out.getvalue() == "No stuck leads.\n"
