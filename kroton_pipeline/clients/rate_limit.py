"""One request budget per external API, shared by every run, process and thread.

Kroton allows 100 requests per 5 minutes per client; several Dagster runs (a backfill, the
daily schedule, a manual re-run) may call it at once from different processes, so the budget
lives in the project's database: a sliding-window log in the ``rate_limit_events`` table.

Acquiring one request is one short transaction under a lock — PostgreSQL:
``pg_advisory_xact_lock(<hash of the bucket>)``; SQLite: ``BEGIN IMMEDIATE`` (the database
write lock; ``busy_timeout`` makes the other processes wait for it) — that deletes the events
older than the window, counts the rest, and inserts one if the count is below the limit;
otherwise it returns how long until the oldest event leaves the window. The caller sleeps
*outside* the transaction and tries again. Waiting is reported through ``on_wait`` as
progress and is never a failed attempt.

Why not pyrate-limiter (4.5, evaluated): its ``SQLiteBucket`` needs its own SQLite file plus
the ``filelock`` package for multi-process use, and takes its time from SQLite, not an
injectable clock; its ``PostgresBucket`` needs psycopg 3 and psycopg_pool while the project
ships psycopg2. Neither works from the project's one SQLAlchemy URL on both
databases, so this ~150-line log over SQLAlchemy is simpler to own than two adapters.

The API counts a request when it *arrives*, the budget when it is *drawn*: a request drawn at
the very end of a window may arrive (on a busy machine, noticeably) after one drawn at the
start of the next. So each request's entry is *settled* when its answer comes back: its time
moves to the completion time, a bound on its arrival, and the window counts from there. A
small safety margin on the window covers the rest (clock reads, scheduling).

Time comes from the database server under the lock on PostgreSQL (``clock_timestamp()``), so
processes on hosts whose clocks disagree still count one window; on SQLite (one host by
nature) and for the process-local budget it is the wall clock, injectable for tests. A wait
is never longer than one window and is slept in slices that re-check the log, so no clock,
however wrong, makes a process exceed the limit or sleep for an hour.
"""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Engine, delete, insert, select, text, update

from kroton_pipeline.db.engine import is_sqlite, make_engine
from kroton_pipeline.db.models import RateLimitEvent

Clock = Callable[[], float]
Sleep = Callable[[float], None]
OnWait = Callable[[float, str], None]

_events = RateLimitEvent.__table__


def default_margin(window_seconds: float) -> float:
    """Safety margin added to the window: 1 % of it, at least 0.25 s."""
    return max(0.25, 0.01 * window_seconds)


def window_wait(times: Sequence[float], now: float, limit: int, window: float) -> float:
    """Seconds until one more request fits, given the sorted draw times still in the window.

    0 when ``len(times) < limit``; otherwise until the ``limit``-th most recent draw expires.
    """
    if len(times) < limit:
        return 0.0
    blocking = times[len(times) - limit]
    return max(blocking + window - now, 0.001)


class RateBudget(Protocol):
    """What the transport needs from a budget."""

    bucket: str

    def acquire(self) -> float:
        """Block until one request may be sent; return the seconds waited."""
        ...

    def describe(self) -> str: ...

    def settle(self) -> None:
        """The last request drawn by this thread was answered (see the module docstring)."""
        ...


class _BudgetBase:
    def __init__(
        self,
        bucket: str,
        limit: int,
        window_seconds: float,
        *,
        safety_margin_seconds: float | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        on_wait: OnWait | None = None,
        wake_jitter_seconds: float = 0.05,
        max_sleep_seconds: float | None = None,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError(f"rate budget {bucket!r} needs limit >= 1 and a positive window")
        self.bucket = bucket
        self.limit = int(limit)
        self.window_seconds = float(window_seconds)
        if safety_margin_seconds is None:
            safety_margin_seconds = default_margin(window_seconds)
        self.effective_window = self.window_seconds + safety_margin_seconds
        self.clock = clock
        self.sleep = sleep
        self.on_wait = on_wait
        # Processes that wait for the same freed slot wake at slightly different times.
        self.wake_jitter_seconds = wake_jitter_seconds
        # Longest single sleep before the log is read again.
        self.max_sleep_seconds = (
            max_sleep_seconds if max_sleep_seconds is not None else max(1.0, window_seconds / 20)
        )

    def describe(self) -> str:
        return f"{self.bucket} budget ({self.limit} per {self.window_seconds:g} s)"

    def try_acquire(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def settle(self) -> None:
        """The request drawn last by this thread got its answer: count it from now on."""

    def acquire(self) -> float:
        """Block until one request may be sent; return the seconds slept waiting for it."""
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return waited
            # Never more than a window, slept in slices that re-read the log.
            wait = min(wait, self.effective_window, self.max_sleep_seconds)
            if self.wake_jitter_seconds:
                wait += random.uniform(0, self.wake_jitter_seconds)
            if self.on_wait is not None:
                self.on_wait(wait, self.describe())
            self.sleep(wait)
            waited += wait


class DatabaseRateBudget(_BudgetBase):
    """The deployment-wide budget, kept in ``rate_limit_events`` (SQLite or PostgreSQL).

    The table comes from the migrations; in tests, ``Base.metadata.create_all``.
    """

    def __init__(
        self,
        database: str | Engine,
        bucket: str,
        limit: int,
        window_seconds: float,
        **kwargs: object,
    ) -> None:
        super().__init__(bucket, limit, window_seconds, **kwargs)  # type: ignore[arg-type]
        self.engine = shared_engine(database) if isinstance(database, str) else database
        self._sqlite = self.engine.dialect.name == "sqlite"
        # Advisory-lock key: a stable 31-bit hash of the bucket name, the same in every process.
        self._lock_key = zlib.crc32(f"kroton_pipeline.rate_budget.{bucket}".encode()) & 0x7FFFFFFF
        self._drawn = threading.local()

    def try_acquire(self) -> float:
        """Draw one request if the window has room (0.0), else the seconds to wait."""
        if self._sqlite:
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    wait = self._draw(conn)
                except BaseException:
                    conn.exec_driver_sql("ROLLBACK")
                    raise
                conn.exec_driver_sql("COMMIT")
                return wait
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self._lock_key})
            return self._draw(conn)

    def _now(self, conn) -> float:
        """Seconds since the epoch: the database server's clock on PostgreSQL."""
        if self._sqlite:
            return self.clock()
        return float(conn.execute(text("SELECT extract(epoch from clock_timestamp())")).scalar())

    def _draw(self, conn) -> float:
        now = self._now(conn)
        conn.execute(
            delete(_events).where(
                _events.c.bucket == self.bucket, _events.c.at <= now - self.effective_window
            )
        )
        times = (
            conn.execute(
                select(_events.c.at).where(_events.c.bucket == self.bucket).order_by(_events.c.at)
            )
            .scalars()
            .all()
        )
        wait = window_wait(times, now, self.limit, self.effective_window)
        if wait == 0.0:
            result = conn.execute(insert(_events).values(bucket=self.bucket, at=now))
            self._drawn.event_id = result.inserted_primary_key[0]
        return wait

    def settle(self) -> None:
        event_id = getattr(self._drawn, "event_id", None)
        if event_id is None:
            return
        self._drawn.event_id = None
        # A later time only ever shrinks what the next draws may send: no lock needed.
        with self.engine.begin() as conn:
            conn.execute(update(_events).where(_events.c.id == event_id).values(at=self._now(conn)))


class LocalRateBudget(_BudgetBase):
    """A budget for this process only (no database configured): threads share it, processes
    do not. For scripts and unit tests; deployments use :class:`DatabaseRateBudget`.
    """

    def __init__(self, bucket: str, limit: int, window_seconds: float, **kwargs: object) -> None:
        super().__init__(bucket, limit, window_seconds, **kwargs)  # type: ignore[arg-type]
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self._drawn = threading.local()

    def try_acquire(self) -> float:
        with self._lock:
            now = self.clock()
            while self._times and self._times[0] <= now - self.effective_window:
                self._times.popleft()
            wait = window_wait(sorted(self._times), now, self.limit, self.effective_window)
            if wait == 0.0:
                self._times.append(now)
                self._drawn.at = now
            return wait

    def settle(self) -> None:
        drawn = getattr(self._drawn, "at", None)
        if drawn is None:
            return
        self._drawn.at = None
        with self._lock:
            try:
                self._times.remove(drawn)
            except ValueError:  # already out of the window
                return
            self._times.append(self.clock())


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def shared_engine(url: str) -> Engine:
    """One engine per database URL per process, so that clients share a small pool."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            kwargs = {} if is_sqlite(url) else {"pool_size": 2, "max_overflow": 8}
            engine = make_engine(url, **kwargs)
            _engines[url] = engine
        return engine


def make_budget(
    database_url: str | None, bucket: str, limit: int, window_seconds: float, **kwargs: object
) -> DatabaseRateBudget | LocalRateBudget:
    """The shared budget for ``bucket``; a process-local one when no database is given."""
    if database_url:
        return DatabaseRateBudget(database_url, bucket, limit, window_seconds, **kwargs)
    return LocalRateBudget(bucket, limit, window_seconds, **kwargs)
