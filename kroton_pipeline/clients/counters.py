"""Per-run counters of one client, for asset metadata and Slack summaries."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

# Counters of :meth:`ClientCounters.as_metadata` shown as API figures -> their metadata key
# suffix (asset metadata and Slack alerts).
API_FIGURES = {
    "requests_total": "requests",
    "retries": "retries",
    "rate_limited": "rate_limited_429",
    "budget_waits": "budget_waits",
    "budget_wait_seconds": "budget_wait_seconds",
    "retry_after_wait_seconds": "retry_after_wait_seconds",
}


@dataclass
class ClientCounters:
    """What one client did during a run. Thread-safe; read with :meth:`as_metadata`.

    ``requests`` counts every attempt by ``(endpoint, outcome)`` where the outcome is the HTTP
    status code (``"200"``, ``"429"``) or a failure kind (``"timeout"``, ``"connect_error"``,
    ``"connection_lost"``). Waiting for the shared budget is not an attempt: it is summed in
    ``budget_wait_seconds``.
    """

    system: str
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    retries: int = 0
    rate_limited: int = 0
    retry_after_wait_seconds: float = 0.0
    budget_waits: int = 0
    budget_wait_seconds: float = 0.0
    budget_longest_sleep_seconds: float = 0.0
    unknown_outcomes: int = 0
    token_fetches: int = 0
    token_renewals_on_401: int = 0
    dry_run_payloads: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, amount: float = 1) -> None:
        """Add ``amount`` to the counter attribute ``name``."""
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def note_longest_sleep(self, seconds: float) -> None:
        """Keep the longest single sleep spent waiting for the budget."""
        with self._lock:
            self.budget_longest_sleep_seconds = max(self.budget_longest_sleep_seconds, seconds)

    def count_request(self, endpoint: str, outcome: str | int) -> None:
        with self._lock:
            self.requests[(endpoint, str(outcome))] += 1

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def as_metadata(self) -> dict[str, int | float]:
        """Flat ``{name: number}`` dict, e.g. ``kroton.requests.register.200``.

        Plain ints and floats, so Dagster plots them across materializations.
        """
        prefix = self.system
        with self._lock:
            data: dict[str, int | float] = {
                f"{prefix}.requests.{endpoint}.{outcome}": count
                for (endpoint, outcome), count in sorted(self.requests.items())
            }
            data[f"{prefix}.requests_total"] = sum(self.requests.values())
            for name in (
                "retries",
                "rate_limited",
                "budget_waits",
                "unknown_outcomes",
                "token_fetches",
                "token_renewals_on_401",
                "dry_run_payloads",
            ):
                data[f"{prefix}.{name}"] = int(getattr(self, name))
            data[f"{prefix}.budget_wait_seconds"] = round(self.budget_wait_seconds, 3)
            data[f"{prefix}.budget_longest_sleep_seconds"] = round(
                self.budget_longest_sleep_seconds, 3
            )
            data[f"{prefix}.retry_after_wait_seconds"] = round(self.retry_after_wait_seconds, 3)
        return data
