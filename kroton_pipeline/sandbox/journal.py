"""The request journal: what reached the sandbox, in arrival order, for tests and benchmarks."""

from __future__ import annotations

import threading
from typing import Any


class Journal:
    """Thread-safe list of request records.

    A record is appended when a request arrives and its ``status`` filled in when the answer
    is sent, so a request the sandbox never answered (an injected timeout) keeps
    ``status`` None.
    """

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def open(
        self, method: str, path: str, system: str, endpoint: str | None, time: float
    ) -> dict[str, Any]:
        """Record an arriving request; returns the record to complete with ``close``."""
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": None,
            "time": time,
            "system": system,
            "endpoint": endpoint,
            "client": None,
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def close(self, entry: dict[str, Any], status: int | None, client: str | None) -> None:
        """Fill in the answer's status and the authenticated client (if any)."""
        with self._lock:
            entry["status"] = status
            entry["client"] = client

    def entries(self) -> list[dict[str, Any]]:
        """A copy of every record, oldest first."""
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._entries.clear()
