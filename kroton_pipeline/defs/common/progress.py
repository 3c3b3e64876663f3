"""Progress lines for long runs: done/total, rate and ETA, at most every few seconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta


class ProgressReporter:
    """Call with (phase, done, total); logs when ``every_seconds`` passed or a phase ends."""

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
        self.last_logged = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = self.clock()
        started = self.started.setdefault(phase, now)
        if done < total and now - self.last_logged < self.every_seconds:
            return
        self.last_logged = now
        elapsed = now - started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        self.log.info(  # type: ignore[attr-defined]
            f"{phase}: {done}/{total} done ({done * 100 // max(total, 1)}%), "
            f"{rate:.2f}/s, ETA {timedelta(seconds=round(eta))}"
        )
