"""Alert thresholds and the webserver URL used in run links, from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from kroton_pipeline.settings import SettingsError

DEFAULT_WEBSERVER_URL = "http://localhost:3000"


@dataclass(frozen=True)
class AlertThresholds:
    """When an alert starts. Each is an environment variable (see README "Slack")."""

    # Seconds one run spent waiting for a rate budget (shared budget + Retry-After).
    rate_limit_wait_seconds: float = 60.0
    # Relative change of today's exported rows vs the mean of the trailing 7 import dates.
    import_volume_change: float = 0.5
    # Import dates needed in the trailing window before the volume is judged at all.
    import_volume_min_history: int = 3
    # Retries per request of one API in one run, judged once a run made enough requests.
    retry_share: float = 0.2
    retry_min_requests: int = 20
    # The design document's healthy indicators: success rate over 90 % ("investigate" under
    # 80 %), judged once enough leads of the run's dates were sent; import -> registration
    # under 24 h (the median of the run's dates).
    success_rate_warn: float = 0.9
    success_rate_investigate: float = 0.8
    success_rate_min_sent: int = 10
    registration_hours: float = 24.0


_ENV_NAMES = {
    "rate_limit_wait_seconds": ("KROTON_ALERT_RATE_LIMIT_WAIT_SECONDS", float),
    "import_volume_change": ("KROTON_ALERT_IMPORT_VOLUME_CHANGE", float),
    "import_volume_min_history": ("KROTON_ALERT_IMPORT_VOLUME_MIN_HISTORY", int),
    "retry_share": ("KROTON_ALERT_RETRY_SHARE", float),
    "retry_min_requests": ("KROTON_ALERT_RETRY_MIN_REQUESTS", int),
    "success_rate_warn": ("KROTON_SUCCESS_RATE_THRESHOLD", float),
    "success_rate_investigate": ("KROTON_ALERT_SUCCESS_RATE_INVESTIGATE", float),
    "success_rate_min_sent": ("KROTON_ALERT_SUCCESS_RATE_MIN_SENT", int),
    "registration_hours": ("KROTON_ALERT_REGISTRATION_HOURS", float),
}


def alert_thresholds(environ: Mapping[str, str] | None = None) -> AlertThresholds:
    """Thresholds from ``KROTON_ALERT_*`` variables; unset ones keep their defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, float | int] = {}
    for field_name, (variable, kind) in _ENV_NAMES.items():
        raw = (environ.get(variable) or "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError as exc:
            raise SettingsError(f"{variable} must be a number") from exc
        if value < 0:
            raise SettingsError(f"{variable} must not be negative")
        values[field_name] = value
    return AlertThresholds(**values)  # type: ignore[arg-type]


def webserver_url(environ: Mapping[str, str] | None = None) -> str:
    """Base URL of the Dagster UI for run links (``DAGSTER_WEBSERVER_URL``)."""
    environ = os.environ if environ is None else environ
    return (environ.get("DAGSTER_WEBSERVER_URL") or "").strip().rstrip("/") or DEFAULT_WEBSERVER_URL


def run_url(base_url: str, run_id: str) -> str:
    """Link to one run in the Dagster UI."""
    return f"{base_url.rstrip('/')}/runs/{run_id}"
