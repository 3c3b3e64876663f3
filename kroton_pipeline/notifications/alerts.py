"""Alert conditions, judged from what one run did (pure functions, no I/O).

A condition that cannot be judged from a run (the run did not call that API, too few
requests, not enough import history) yields nothing, so an open alert stays open until a
run shows it has cleared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from kroton_pipeline.clients.transport import API_FIGURES
from kroton_pipeline.settings import AlertThresholds

_SYSTEM_TITLES = {"kroton": "Kroton API", "captacao": "Captação API", "catalog": "catalog"}


@dataclass(frozen=True)
class AlertCondition:
    """One alert's state as a run shows it; ``key`` names it in the ``alert_states`` table."""

    key: str
    title: str
    active: bool
    value: float
    detail: str


@dataclass
class ApiFigures:
    """What one run spent on one API, summed over its materializations."""

    requests_total: int = 0
    retries: int = 0
    rate_limited: int = 0
    budget_wait_seconds: float = 0.0
    retry_after_wait_seconds: float = 0.0

    @property
    def wait_seconds(self) -> float:
        return self.budget_wait_seconds + self.retry_after_wait_seconds


def api_figures_from_metadata(metadata: Sequence[Mapping[str, object]]) -> dict[str, ApiFigures]:
    """Sum the API figures found in materialization metadata, per API.

    Assets publish them per date as ``<system>/<figure>``, e.g. ``kroton/requests`` or
    ``kroton/budget_wait_seconds`` (see ``defs/common/metadata.api_metadata``); a run's
    figures are the sum over the dates it materialized.
    """
    by_label = {label: name for name, label in API_FIGURES.items()} | {"requests": "requests_total"}
    figures: dict[str, ApiFigures] = {}
    fields = set(ApiFigures.__dataclass_fields__)
    for entry in metadata:
        for key, value in entry.items():
            if "/" not in key or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            system, _, label = key.partition("/")
            counter = by_label.get(label)
            if counter not in fields:
                continue
            found = figures.setdefault(system, ApiFigures())
            setattr(found, counter, getattr(found, counter) + value)
    return figures


def rate_limit_alerts(
    figures: Mapping[str, ApiFigures], thresholds: AlertThresholds
) -> list[AlertCondition]:
    """Per API: the run waited for its rate budget longer than the threshold."""
    alerts = []
    for system, api in sorted(figures.items()):
        title = f"rate-limit waits on the {_SYSTEM_TITLES.get(system, system)}"
        limit = thresholds.rate_limit_wait_seconds
        alerts.append(
            AlertCondition(
                key=f"rate_limit_wait:{system}",
                title=title,
                active=api.wait_seconds > limit,
                value=round(api.wait_seconds, 1),
                detail=(
                    f"{api.wait_seconds:.0f} s waited for the rate budget in one run "
                    f"({api.rate_limited} answers 429; threshold {limit:g} s)"
                ),
            )
        )
    return alerts


def retry_alerts(
    figures: Mapping[str, ApiFigures], thresholds: AlertThresholds
) -> list[AlertCondition]:
    """Per API: retries per request above the threshold (judged from enough requests)."""
    alerts = []
    for system, api in sorted(figures.items()):
        if api.requests_total < max(thresholds.retry_min_requests, 1):
            continue
        share = api.retries / api.requests_total
        alerts.append(
            AlertCondition(
                key=f"retries:{system}",
                title=f"excessive retries on the {_SYSTEM_TITLES.get(system, system)}",
                active=share > thresholds.retry_share,
                value=round(share, 4),
                detail=(
                    f"{api.retries} retries for {api.requests_total} requests "
                    f"({share:.0%}; threshold {thresholds.retry_share:.0%})"
                ),
            )
        )
    return alerts


def import_volume_alert(
    import_date: date,
    rows_today: int,
    trailing_rows: Sequence[int],
    thresholds: AlertThresholds,
) -> AlertCondition | None:
    """Today's exported rows far from the mean of the trailing 7 import dates."""
    if len(trailing_rows) < max(thresholds.import_volume_min_history, 1):
        return None
    mean = sum(trailing_rows) / len(trailing_rows)
    change = (rows_today - mean) / mean if mean else (0.0 if rows_today == 0 else 1.0)
    return AlertCondition(
        key="import_volume",
        title="anomalous import volume",
        active=abs(change) > thresholds.import_volume_change,
        value=round(change, 4),
        detail=(
            f"{rows_today} rows exported for {import_date.isoformat()} vs a mean of {mean:.0f} "
            f"over the previous {len(trailing_rows)} import dates ({change:+.0%}; threshold "
            f"±{thresholds.import_volume_change:.0%})"
        ),
    )


def all_rows_rejected_alert(rejected_files: Mapping[date, int]) -> AlertCondition:
    """Import dates whose export had rows and saw every one rejected (rows in by date)."""
    dates = ", ".join(
        f"{day.isoformat()} ({rows} rows)" for day, rows in sorted(rejected_files.items())
    )
    return AlertCondition(
        key="all_rows_rejected",
        title="every row of an export rejected",
        active=bool(rejected_files),
        value=float(sum(rejected_files.values())),
        detail=(
            f"nothing imported for {dates}: every row was rejected (see lead_rejections for "
            "the reasons; a shifted column or a wrong export is the usual cause)"
            if rejected_files
            else "every export of the run had rows imported"
        ),
    )


def success_rate_alerts(
    accepted: int, sent: int, thresholds: AlertThresholds
) -> list[AlertCondition]:
    """The run's dates' registration success rate under 90 %, and under 80 % (investigate)."""
    if sent < max(thresholds.success_rate_min_sent, 1):
        return []
    rate = accepted / sent
    alerts = []
    for key, title, limit in (
        ("success_rate", "registration success rate below target", thresholds.success_rate_warn),
        (
            "success_rate_investigate",
            "registration success rate very low: investigate",
            thresholds.success_rate_investigate,
        ),
    ):
        alerts.append(
            AlertCondition(
                key=key,
                title=title,
                active=rate < limit,
                value=round(rate, 4),
                detail=f"{accepted} of {sent} leads sent were accepted ({rate:.0%}; "
                f"threshold {limit:.0%})",
            )
        )
    return alerts


def registration_time_alert(
    median_hours: float | None, thresholds: AlertThresholds
) -> AlertCondition | None:
    """Import -> registration slower than the healthy indicator (median of the run's dates)."""
    if median_hours is None:
        return None
    limit = thresholds.registration_hours
    return AlertCondition(
        key="import_to_registration",
        title="import to registration slower than target",
        active=median_hours > limit,
        value=round(median_hours, 2),
        detail=f"median {median_hours:.1f} h from import to registration (threshold {limit:g} h)",
    )


def stuck_leads_alert(stuck: int, summary: str) -> AlertCondition:
    """Leads of a registration pass's dates stuck before ``registered`` (see the check
    ``no_stuck_leads``): the design document's "not registered after 48 h", found first."""
    return AlertCondition(
        key="stuck_leads",
        title="stuck leads",
        active=stuck > 0,
        value=float(stuck),
        detail=f"{summary}; one lead's story: python -m kroton_pipeline.lead <id>",
    )
