"""Statuses change only through the state machine, always leaving a history row."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, event, func, select, update

from kroton_pipeline.db import status_changes
from kroton_pipeline.db.models import StatusHistory, Subscription
from kroton_pipeline.db.status_changes import (
    ConcurrentStatusChange,
    StatusChange,
    UnknownSubscription,
    apply_status_changes,
    record_created,
    transition_where,
)
from kroton_pipeline.domain.statuses import IllegalTransition, Status
from kroton_pipeline_tests.db.factories import create_subscriptions

NOW = datetime(2026, 1, 5, 10, 0, 0)


def _statuses(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Subscription.id, Subscription.status)).all())


def _history(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                StatusHistory.subscription_id,
                StatusHistory.from_status,
                StatusHistory.to_status,
                StatusHistory.reason,
                StatusHistory.run_id,
            ).order_by(StatusHistory.id)
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def ids(engine: Engine) -> list[int]:
    with engine.begin() as conn:
        return create_subscriptions(conn, 3)


def test_allowed_change_moves_status_and_writes_history_with_run_id(engine, ids) -> None:
    with engine.begin() as conn:
        conn.execute(update(Subscription).values(attempts=3, last_error="timeout"))
        changed = apply_status_changes(
            conn,
            [
                StatusChange(ids[0], Status.TO_REGISTER, "2 offers"),
                StatusChange(ids[1], Status.EMPTY_COURSE, "0 offers"),
            ],
            run_id="run-42",
            now=NOW,
        )
    assert changed == 2
    assert _statuses(engine) == {ids[0]: "to_register", ids[1]: "empty_course", ids[2]: "to_sync"}
    assert _history(engine) == [
        (ids[0], "to_sync", "to_register", "2 offers", "run-42"),
        (ids[1], "to_sync", "empty_course", "0 offers", "run-42"),
    ]
    with engine.connect() as conn:
        row = conn.execute(
            select(
                Subscription.attempts,
                Subscription.last_error,
                Subscription.status_reason,
                Subscription.updated_at,
            ).where(Subscription.id == ids[0])
        ).one()
        assert conn.execute(select(func.max(StatusHistory.changed_at))).scalar_one() == NOW
    assert tuple(row) == (0, None, "2 offers", NOW)


def test_illegal_change_raises_and_writes_nothing(engine, ids) -> None:
    changes = [StatusChange(ids[0], Status.TO_REGISTER), StatusChange(ids[1], Status.ENROLLED)]
    expected = rf"subscription {ids[1]}.*to_sync -> enrolled"
    with pytest.raises(IllegalTransition, match=expected), engine.begin() as conn:
        apply_status_changes(conn, changes, run_id="r")
    assert set(_statuses(engine).values()) == {"to_sync"}
    assert _history(engine) == []


def test_same_status_writes_no_history_but_updates_the_reason(engine, ids) -> None:
    with engine.begin() as conn:
        apply_status_changes(conn, [StatusChange(ids[0], Status.COURSE_FAILED, "503")], "r1")
        changed = apply_status_changes(
            conn, [StatusChange(ids[0], Status.COURSE_FAILED, "timeout")], "r2"
        )
        reason = conn.execute(
            select(Subscription.status_reason).where(Subscription.id == ids[0])
        ).scalar_one()
    assert changed == 0
    assert reason == "timeout"
    assert len(_history(engine)) == 1


def test_concurrent_change_is_detected(engine, ids, monkeypatch) -> None:
    read = status_changes.current_statuses

    def read_then_someone_else_writes(conn, wanted):
        found = read(conn, wanted)
        # Another worker moves the lead between our read and our write.
        conn.execute(
            update(Subscription).where(Subscription.id == ids[0]).values(status="empty_course")
        )
        return found

    monkeypatch.setattr(status_changes, "current_statuses", read_then_someone_else_writes)
    with pytest.raises(ConcurrentStatusChange), engine.begin() as conn:
        apply_status_changes(conn, [StatusChange(ids[0], Status.TO_REGISTER)], "r")
    assert _history(engine) == []
    assert set(_statuses(engine).values()) == {"to_sync"}


def test_unknown_subscription_raises(engine, ids) -> None:
    with pytest.raises(UnknownSubscription), engine.begin() as conn:
        apply_status_changes(conn, [StatusChange(10**9, Status.TO_REGISTER)], "r")


def test_the_same_subscription_twice_in_a_batch_is_refused(engine, ids) -> None:
    changes = [StatusChange(ids[0], Status.TO_REGISTER), StatusChange(ids[0], Status.EMPTY_COURSE)]
    with pytest.raises(ValueError, match="twice"), engine.begin() as conn:
        apply_status_changes(conn, changes, "r")


def test_record_created_writes_the_first_history_row(engine, ids) -> None:
    with engine.begin() as conn:
        assert record_created(conn, ids, run_id="import-1", now=NOW) == 3
    assert _history(engine) == [(sid, None, "to_sync", "imported", "import-1") for sid in ids]


def test_record_created_refuses_a_subscription_not_in_to_sync(engine, ids) -> None:
    with engine.begin() as conn:
        apply_status_changes(conn, [StatusChange(ids[0], Status.TO_REGISTER)], "r")
    with pytest.raises(IllegalTransition), engine.begin() as conn:
        record_created(conn, ids, run_id="import-1")


def test_transition_where_moves_every_matching_row(engine, ids) -> None:
    with engine.begin() as conn:
        conn.execute(update(Subscription).where(Subscription.id == ids[2]).values(gender="NI"))
        moved = transition_where(
            conn, Subscription.gender == "NI", Status.REGISTER_FAILED, "gender_unknown", "run-7"
        )
    assert moved == 1
    assert _statuses(engine)[ids[2]] == "register_failed"
    assert _history(engine) == [(ids[2], "to_sync", "register_failed", "gender_unknown", "run-7")]


def test_transition_where_validates_before_writing(engine, ids) -> None:
    with engine.begin() as conn:
        apply_status_changes(conn, [StatusChange(ids[0], Status.EMPTY_COURSE)], "r")
    with (
        pytest.raises(IllegalTransition, match="empty_course -> to_register"),
        engine.begin() as conn,
    ):
        transition_where(conn, Subscription.id.in_(ids), Status.TO_REGISTER, None, "r2")
    assert sorted(_statuses(engine).values()) == ["empty_course", "to_sync", "to_sync"]
    assert len(_history(engine)) == 1


def test_transition_where_skips_rows_already_there(engine, ids) -> None:
    with engine.begin() as conn:
        apply_status_changes(conn, [StatusChange(ids[0], Status.COURSE_FAILED, "old")], "r")
        moved = transition_where(
            conn, Subscription.id.in_(ids), Status.COURSE_FAILED, "catalog down", "r2"
        )
        reasons = set(conn.execute(select(Subscription.status_reason)).scalars())
    assert moved == 2
    assert reasons == {"catalog down"}
    assert len(_history(engine)) == 3


def test_ten_thousand_changes_take_a_handful_of_statements(engine) -> None:
    # Set-based: the statement count does not grow with the batch (speed is the benchmarks').
    with engine.begin() as conn:
        ids = create_subscriptions(conn, 10_000)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with engine.begin() as conn:
            changed = apply_status_changes(
                conn, [StatusChange(sid, Status.TO_REGISTER, f"r{sid}") for sid in ids], "bulk"
            )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert changed == 10_000
    assert len(statements) <= 12, len(statements)
