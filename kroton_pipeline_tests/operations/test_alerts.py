"""Alerts are judged from what a run did and sent once when they start, once when they clear."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine, insert

from kroton_pipeline.db.models import ImportFile
from kroton_pipeline.notifications.alert_state import Transition, open_alerts, record_alert
from kroton_pipeline.notifications.alerts import (
    AlertCondition,
    api_figures_from_metadata,
    import_volume_alert,
    rate_limit_alerts,
    registration_time_alert,
    retry_alerts,
    success_rate_alerts,
)
from kroton_pipeline.notifications.reporter import RunReporter
from kroton_pipeline.notifications.run_facts import RunFacts
from kroton_pipeline.settings import AlertThresholds, alert_thresholds
from kroton_pipeline_tests.db.factories import create_subscriptions

THRESHOLDS = AlertThresholds(rate_limit_wait_seconds=60, retry_share=0.2, retry_min_requests=20)
DAY = date(2026, 11, 28)


def _condition(active: bool) -> AlertCondition:
    return AlertCondition("rate_limit_wait:kroton", "waits", active, 90.0 if active else 0.0, "d")


def test_client_counters_are_summed_per_api_from_materialization_metadata() -> None:
    figures = api_figures_from_metadata(
        [
            {"kroton/budget_wait_seconds": 40.0, "kroton/requests": 50},
            {"kroton/retry_after_wait_seconds": 30.0, "kroton/retries": 4},
            {"catalog/budget_wait_seconds": 1.5, "rows_in": 100, "status/to_sync": 3},
        ]
    )
    assert figures["kroton"].wait_seconds == 70.0
    assert figures["kroton"].requests_total == 50 and figures["kroton"].retries == 4
    assert set(figures) == {"kroton", "catalog"}


def test_rate_limit_wait_above_the_threshold_is_an_active_alert() -> None:
    figures = api_figures_from_metadata([{"kroton/budget_wait_seconds": 61.0}])
    [alert] = rate_limit_alerts(figures, THRESHOLDS)
    assert alert.key == "rate_limit_wait:kroton" and alert.active
    figures = api_figures_from_metadata([{"kroton/budget_wait_seconds": 59.0}])
    assert not rate_limit_alerts(figures, THRESHOLDS)[0].active


def test_retries_are_judged_only_from_enough_requests() -> None:
    few = api_figures_from_metadata([{"kroton/requests": 10, "kroton/retries": 9}])
    assert retry_alerts(few, THRESHOLDS) == []
    many = api_figures_from_metadata([{"kroton/requests": 100, "kroton/retries": 30}])
    [alert] = retry_alerts(many, THRESHOLDS)
    assert alert.active and alert.value == 0.3


def test_import_volume_is_compared_with_the_trailing_days() -> None:
    assert import_volume_alert(DAY, 1000, [100, 100], THRESHOLDS) is None  # too little history
    alert = import_volume_alert(DAY, 1600, [1000, 1000, 1000], THRESHOLDS)
    assert alert is not None and alert.active and "+60%" in alert.detail
    normal = import_volume_alert(DAY, 1100, [1000, 1000, 1000], THRESHOLDS)
    assert normal is not None and not normal.active


def test_thresholds_come_from_the_environment() -> None:
    thresholds = alert_thresholds(
        {"KROTON_ALERT_IMPORT_VOLUME_CHANGE": "0.3", "KROTON_ALERT_RATE_LIMIT_WAIT_SECONDS": "120"}
    )
    assert thresholds.import_volume_change == 0.3
    assert thresholds.rate_limit_wait_seconds == 120


def test_an_alert_is_announced_once_when_it_starts_and_once_when_it_clears(
    engine: Engine,
) -> None:
    transitions = [
        record_alert(engine, _condition(active), f"run{n}")
        for n, active in enumerate([False, True, True, True, False, False, True])
    ]
    assert transitions == [
        None,
        Transition.STARTED,
        None,
        None,
        Transition.CLEARED,
        None,
        Transition.STARTED,
    ]
    assert open_alerts(engine) == ["rate_limit_wait:kroton"]


def test_anomalous_import_volume_starts_and_clears_with_the_runs_that_import(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(ImportFile),
            [
                {
                    "import_date": DAY - timedelta(days=n),
                    "file_name": f"leads_{n}.csv",
                    "sha256": "0" * 64,
                    "rows_in": rows,
                    "imported": rows,
                    "rejected": 0,
                }
                for n, rows in [(0, 3000), (1, 1000), (2, 1000), (3, 1000), (4, 900)]
            ],
        )
    reporter = RunReporter(engine, THRESHOLDS, "http://ui")
    facts = RunFacts("import_leads", "run-a", str(DAY), [DAY], 1.0, {"subscriptions": [{}]})
    [started] = reporter.alerts(facts)
    assert "Alert started: anomalous import volume" in started.text
    assert reporter.alerts(facts) == []  # still anomalous: nothing new to say
    with engine.begin() as conn:
        conn.execute(
            ImportFile.__table__.update().where(ImportFile.import_date == DAY).values(rows_in=1050)
        )
    [cleared] = reporter.alerts(facts)
    assert "Alert cleared" in cleared.text
    # A run that imported nothing says nothing about the volume.
    assert reporter.alerts(RunFacts("checker", "run-b", str(DAY), [DAY], 1.0, {})) == []


def test_a_success_rate_under_90_percent_alerts_and_under_80_percent_says_investigate() -> None:
    assert success_rate_alerts(5, 6, THRESHOLDS) == []  # too few sent to judge
    warn, investigate = success_rate_alerts(85, 100, THRESHOLDS)
    assert warn.key == "success_rate" and warn.active
    assert investigate.key == "success_rate_investigate" and not investigate.active
    _warn, investigate = success_rate_alerts(70, 100, THRESHOLDS)
    assert investigate.active and "investigate" in investigate.title
    assert not any(alert.active for alert in success_rate_alerts(95, 100, THRESHOLDS))


def test_import_to_registration_over_24_hours_alerts() -> None:
    assert registration_time_alert(None, THRESHOLDS) is None
    slow = registration_time_alert(30.5, THRESHOLDS)
    assert slow is not None and slow.active and "30.5 h" in slow.detail
    fast = registration_time_alert(3.0, THRESHOLDS)
    assert fast is not None and not fast.active


def test_a_registration_pass_below_target_reaches_slack_once(engine: Engine) -> None:
    with engine.begin() as conn:
        create_subscriptions(
            conn, 8, 1, status="registered", import_date=DAY, registered_at=datetime(2026, 11, 29)
        )
        create_subscriptions(
            conn, 4, 20, status="register_failed", status_reason="kroton_rejected: x",
            import_date=DAY,
        )  # fmt: skip
    reporter = RunReporter(engine, THRESHOLDS, "http://ui")
    facts = RunFacts("register", "run-a", str(DAY), [DAY], 1.0, {"registrations": [{}]})
    texts = [message.text for message in reporter.alerts(facts)]
    assert any("registration success rate below target" in text for text in texts)
    assert any("investigate" in text for text in texts)  # 8 of 12: 67 %
    assert reporter.alerts(facts) == []
