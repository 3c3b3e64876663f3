"""Stuck leads are found before anyone asks: an asset check per import date, and a Slack alert
sent once when they start and once when they clear."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, update

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.defs.registrations.checks import stuck_leads_check
from kroton_pipeline.notifications.reporter import RunReporter
from kroton_pipeline.notifications.run_facts import RunFacts
from kroton_pipeline.settings import AlertThresholds, StuckThresholds, utcnow
from kroton_pipeline_tests.db.factories import create_subscriptions

DAY = date(2026, 11, 28)


def test_a_lead_not_registered_a_day_after_import_fails_the_check_then_clears(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        ids = create_subscriptions(
            conn, 3, 1, status="to_register", import_date=DAY,
            created_at=utcnow() - timedelta(hours=30),
        )  # fmt: skip
    stuck = stuck_leads_check(engine, DAY, StuckThresholds())
    assert not stuck.passed and stuck.metadata["stuck"].value == 3
    assert "3 stuck lead(s)" in (stuck.description or "")

    reporter = RunReporter(engine, AlertThresholds(), "http://ui")
    facts = RunFacts("register", "run-a", str(DAY), [DAY], 1.0, {"registrations": [{}]})
    started = [m.text for m in reporter.alerts(facts) if "stuck leads" in m.text]
    assert started and "Alert started" in started[0]
    assert not [m for m in reporter.alerts(facts) if "stuck leads" in m.text]  # said once

    with engine.begin() as conn:
        conn.execute(
            update(Subscription).where(Subscription.id.in_(ids)).values(status="registered")
        )
    assert stuck_leads_check(engine, DAY, StuckThresholds()).passed
    cleared = [m.text for m in reporter.alerts(facts) if "stuck leads" in m.text]
    assert cleared and "Alert cleared" in cleared[0]
