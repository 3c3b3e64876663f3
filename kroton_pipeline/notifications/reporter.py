"""What the Slack sensors send for a run: its summary, its failure and the alerts it moved.

The sensors in ``defs/operations/sensors.py`` are thin: they hand the run to
:class:`RunReporter`, which reads the run (:mod:`.run_facts`), judges the alerts
(:mod:`.alerts`), records their state (:mod:`.alert_state`) and builds the messages
(:mod:`.messages`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from kroton_pipeline.notifications.alert_state import Transition, record_alert
from kroton_pipeline.notifications.alerts import (
    AlertCondition,
    all_rows_rejected_alert,
    api_figures_from_metadata,
    import_volume_alert,
    rate_limit_alerts,
    registration_time_alert,
    retry_alerts,
    stuck_leads_alert,
    success_rate_alerts,
)
from kroton_pipeline.notifications.messages import (
    SlackMessage,
    alert_message,
    run_failed_message,
    run_finished_message,
    run_url,
)
from kroton_pipeline.notifications.run_facts import (
    RunFacts,
    import_volumes,
    root_error,
    wholly_rejected,
)
from kroton_pipeline.reporting.status_counts import status_counts
from kroton_pipeline.reporting.stuck_leads import find_stuck_leads
from kroton_pipeline.reporting.success_rate import (
    median_hours_to_registration,
    registration_success,
)
from kroton_pipeline.settings import AlertThresholds, load_settings, utcnow


@dataclass
class RunReporter:
    """Builds the messages about one finished run."""

    engine: Engine
    thresholds: AlertThresholds
    webserver_url: str

    def link(self, run_id: str) -> str:
        return run_url(self.webserver_url, run_id)

    def summary(self, facts: RunFacts, status: str) -> SlackMessage:
        """End of a job: status, duration and leads per status of the dates it covered."""
        counts = status_counts(self.engine, facts.import_dates)
        return run_finished_message(
            facts.job,
            facts.run_id,
            status,
            facts.partition,
            counts,
            facts.duration_seconds,
            self.link(facts.run_id),
            forecast=_forecast(facts),
        )

    def failure(
        self, facts: RunFacts, step_errors: list[tuple[str | None, object]]
    ) -> SlackMessage:
        """A failed job: the error class of its first failed step (or of the run)."""
        step, error = step_errors[0] if step_errors else (None, None)
        root = root_error(error)
        return run_failed_message(
            facts.job,
            facts.run_id,
            facts.partition,
            str(getattr(root, "cls_name", None) or "RunFailure"),
            getattr(root, "message", None),
            step,
            self.link(facts.run_id),
        )

    def conditions(self, facts: RunFacts) -> list[AlertCondition]:
        """Every alert this run lets us judge."""
        figures = api_figures_from_metadata(facts.all_metadata)
        found = rate_limit_alerts(figures, self.thresholds) + retry_alerts(figures, self.thresholds)
        if "subscriptions" in facts.materialized:
            found.append(all_rows_rejected_alert(wholly_rejected(self.engine, facts.dates)))
            for import_date in facts.dates[-1:]:  # the newest date of a backfill is "today"
                rows_today, trailing = import_volumes(self.engine, import_date)
                if rows_today is None:
                    continue
                alert = import_volume_alert(import_date, rows_today, trailing, self.thresholds)
                if alert is not None:
                    found.append(alert)
        if "registrations" in facts.materialized and facts.import_dates:
            with self.engine.connect() as conn:
                success = registration_success(conn, facts.import_dates)
                hours = median_hours_to_registration(conn, facts.import_dates)
                stuck = find_stuck_leads(conn, utcnow(), load_settings().stuck, facts.import_dates)
            found += success_rate_alerts(success.accepted, success.sent, self.thresholds)
            found.append(stuck_leads_alert(stuck.total, stuck.summary()))
            timing = registration_time_alert(hours, self.thresholds)
            if timing is not None:
                found.append(timing)
        return found

    def alerts(self, facts: RunFacts) -> list[SlackMessage]:
        """Messages for the alerts that started or cleared with this run (and only those)."""
        messages = []
        for condition in self.conditions(facts):
            transition = record_alert(self.engine, condition, facts.run_id)
            if transition is None:
                continue
            messages.append(
                alert_message(
                    condition.title,
                    transition is Transition.STARTED,
                    condition.detail,
                    facts.run_id,
                    self.link(facts.run_id),
                )
            )
        return messages


def _forecast(facts: RunFacts) -> tuple[int, float] | None:
    """(leads waiting to be sent, days of budget to send them) from a registration pass."""
    for metadata in reversed(facts.materialized.get("registrations", [])):
        backlog = metadata.get("forecast/backlog_to_send")
        days = metadata.get("forecast/days_to_send_backlog")
        if isinstance(backlog, int) and isinstance(days, int | float):
            return backlog, float(days)
    return None
