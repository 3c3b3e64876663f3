"""The funnel report's SQL answers the source document's queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert

from kroton_pipeline.db.models import ImportFile, StatusHistory
from kroton_pipeline.reporting.funnel import funnel_report
from kroton_pipeline_tests.db.factories import create_subscriptions

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 12, 0)
OLD = NOW - timedelta(days=20)  # inside 30 days, outside 7


@pytest.fixture
def report(engine: Engine):
    day1, day2 = TODAY - timedelta(days=1), TODAY
    with engine.begin() as conn:
        common = {"created_at": NOW - timedelta(hours=5), "import_date": day2}
        create_subscriptions(
            conn,
            4,
            1,
            status="enrolled",
            modality="EAD",
            campus="Centro",
            registered_at=NOW - timedelta(hours=3),
            **common,
        )
        create_subscriptions(
            conn,
            2,
            5,
            status="registered",
            modality="EAD",
            campus="Norte",
            registered_at=NOW - timedelta(hours=1),
            **common,
        )
        create_subscriptions(
            conn,
            2,
            7,
            status="register_failed",
            status_reason="kroton_rejected: Dados inválidos",
            modality="Presencial",
            campus="Centro",
            **common,
        )
        ids = create_subscriptions(
            conn,
            2,
            9,
            status="to_register",
            modality="Presencial",
            campus=None,
            attempts=1,
            **common,
        )
        old = create_subscriptions(
            conn,
            3,
            11,
            status="empty_course",
            modality="Presencial",
            campus="Sul",
            created_at=OLD,
            import_date=day1,
        )
        conn.execute(
            insert(StatusHistory),
            [{"subscription_id": old[0], "from_status": "to_sync", "to_status": "course_failed"}],
        )
        conn.execute(
            insert(ImportFile),
            [
                {
                    "import_date": day,
                    "file_name": f"leads_{day}.csv",
                    "sha256": "0" * 64,
                    "rows_in": rows,
                    "imported": imported,
                    "rejected": rows - imported,
                }
                for day, rows, imported in [(day1, 4, 3), (day2, 11, 10)]
            ],
        )
    assert ids
    with engine.connect() as conn:
        return funnel_report(conn, TODAY)


def test_status_per_period_counts_the_last_7_days_by_created_at(report) -> None:
    assert report.status_last_7_days == {
        "enrolled": 4,
        "registered": 2,
        "register_failed": 2,
        "to_register": 2,
    }


def test_status_counts_per_import_date(report) -> None:
    assert report.status_by_import_date[TODAY - timedelta(days=1)] == {"empty_course": 3}
    assert sum(report.status_by_import_date[TODAY].values()) == 10


def test_conversion_per_modality_over_30_days(report) -> None:
    by_name = {group.name: group for group in report.by_modality}
    assert by_name["EAD"].total == 6 and by_name["EAD"].enrolled == 4
    assert by_name["EAD"].conversion == pytest.approx(4 / 6)
    assert by_name["Presencial"].total == 7 and by_name["Presencial"].enrolled == 0
    assert [group.name for group in report.by_modality] == ["Presencial", "EAD"]  # total desc


def test_performance_per_campus_over_7_days_counts_inscribed(report) -> None:
    by_name = {group.name: group for group in report.by_campus}
    assert (by_name["Centro"].total, by_name["Centro"].inscribed) == (6, 4)
    assert (by_name["Norte"].total, by_name["Norte"].inscribed) == (2, 2)
    assert by_name["(none)"].total == 2
    assert "Sul" not in by_name  # created 20 days ago


def test_registration_success_rate_median_time_volume_and_retries(report) -> None:
    assert (report.accepted, report.decided) == (6, 8)
    assert report.success_rate == pytest.approx(0.75)
    assert report.median_hours_to_registration == 2.0  # 2 h (x4) and 4 h (x2) after import
    assert report.hours_to_registration == {TODAY: 2.0}
    volumes = {v.import_date: v for v in report.daily_volume}
    assert (volumes[TODAY].rows_in, volumes[TODAY].rejected, volumes[TODAY].accepted) == (11, 1, 6)
    assert report.registered_per_day == {TODAY: 6}
    assert (report.leads_retried, report.leads_total) == (3, 13)
