"""The sandbox clock: real time plus an offset that tests and operators can advance."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone

# Kroton works on Brasília time (no daylight saving since 2019).
BRASILIA = timezone(timedelta(hours=-3))


class SandboxClock:
    """Unix time as the sandbox sees it.

    Token expiry, rate-limit windows and the progression of registrations all read this
    clock, so advancing it lets a test jump days ahead without sleeping.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current sandbox time as a unix timestamp."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    def today(self) -> date:
        """The sandbox's current date in Brasília, which decides whether an offer is open."""
        return datetime.fromtimestamp(self.now(), BRASILIA).date()


def iso_timestamp(unix: float) -> str:
    """ISO 8601 UTC timestamp with seconds precision, e.g. ``2026-11-29T10:00:00Z``."""
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
