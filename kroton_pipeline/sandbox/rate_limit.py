"""The sandbox's server-side rate limiter: N requests per sliding window per client."""

from __future__ import annotations

import math
import threading
from collections import deque


class SlidingWindowLimiter:
    """Admit at most ``limit`` requests per ``window`` seconds for each client key.

    Time comes from the caller (the sandbox clock), so advancing the clock also empties the
    windows. Rejected requests are not counted, like Azure API Management's rate-limit policy.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def configure(self, limit: int | None = None, window: float | None = None) -> None:
        """Change the budget; the history of admitted requests is kept."""
        with self._lock:
            if limit is not None:
                self.limit = int(limit)
            if window is not None:
                self.window = float(window)

    def admit(self, key: str, now: float) -> int:
        """Record a request; return 0 if admitted, else the seconds to wait (integer >= 1)."""
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) < self.limit:
                hits.append(now)
                return 0
            # The request becomes admissible once the oldest hit in the window expires.
            oldest = hits[len(hits) - self.limit] if self.limit > 0 else now
            return max(1, math.ceil(oldest + self.window - now))

    def reset(self) -> None:
        """Forget every client's history."""
        with self._lock:
            self._hits.clear()
