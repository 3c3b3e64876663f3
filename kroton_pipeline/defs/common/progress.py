"""Progress lines for long runs: which date, done/total, rate and ETA, every few seconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, timedelta

Progress = Callable[[str, int, int], None]


class ProgressReporter:
    """Call with (phase, done, total); logs every ``every_seconds`` and when a phase ends.

    The first line of a phase comes once ``every_seconds`` have passed, so its rate and ETA
    rest on measured work (never "ETA 0:00:00" before anything was timed); a short phase
    gets one line, at its end, with its duration.
    """

    def __init__(
        self,
        log: logging.Logger | object,
        every_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.every_seconds = every_seconds
        self.clock = clock
        self.started: dict[str, float] = {}
        self.last_logged: dict[str, float] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = self.clock()
        started = self.started.setdefault(phase, now)
        last = self.last_logged.setdefault(phase, started)
        if done < total and now - last < self.every_seconds:
            return
        self.last_logged[phase] = now
        elapsed = now - started
        share = f"{done}/{total} done ({done * 100 // max(total, 1)}%)"
        if done >= total:
            line = f"{phase}: {share} in {timedelta(seconds=round(elapsed))}"
        else:
            rate = done / elapsed if elapsed > 0 else 0.0
            eta = f"ETA {timedelta(seconds=round((total - done) / rate))}" if rate else "ETA —"
            line = f"{phase}: {share}, {rate:.2f}/s, {eta}"
        self.log.info(line)  # type: ignore[attr-defined]

    def for_date(self, day: date) -> Progress:
        """The reporter with each phase named for ``day`` (runs over several dates)."""
        return lambda phase, done, total: self(f"{phase} {day.isoformat()}", done, total)
