"""The shared rate budget with an injected clock: no real waiting."""

from __future__ import annotations

import time

import pytest

from kroton_pipeline.clients.transport import (
    DatabaseRateBudget,
    LocalRateBudget,
    default_margin,
    window_wait,
)


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_window_wait_is_zero_below_the_limit_and_until_the_blocking_draw_expires() -> None:
    assert window_wait([1.0, 2.0], now=3.0, limit=3, window=10) == 0.0
    assert window_wait([1.0, 2.0, 3.0], now=4.0, limit=3, window=10) == pytest.approx(7.0)
    assert window_wait([1.0, 2.0, 3.0, 3.5], now=4.0, limit=3, window=10) == pytest.approx(8.0)


def test_default_margin_is_small_but_never_zero() -> None:
    assert default_margin(300) == pytest.approx(3.0)
    assert default_margin(5) == pytest.approx(0.25)


@pytest.mark.parametrize("kind", ["local", "sqlite"])
def test_budget_waits_instead_of_failing_and_reports_the_wait(kind: str, sqlite_url: str) -> None:
    fake = FakeTime()
    reports: list[tuple[float, str]] = []
    options = dict(
        safety_margin_seconds=0.0,
        clock=fake.clock,
        sleep=fake.sleep,
        on_wait=lambda s, d: reports.append((s, d)),
        wake_jitter_seconds=0.0,
    )
    if kind == "local":
        budget = LocalRateBudget("kroton", 3, 10.0, **options)
    else:
        budget = DatabaseRateBudget(sqlite_url, "kroton", 3, 10.0, **options)
    waited = [budget.acquire() for _ in range(3)]
    assert waited == [0.0, 0.0, 0.0]
    assert budget.acquire() == pytest.approx(10.0)
    # Slept in slices (at most 1 s for a 10 s window), each reported, the log re-read after.
    assert sum(seconds for seconds, _ in reports) == pytest.approx(10.0)
    assert all(seconds <= 1.0 for seconds, _ in reports)
    assert {description for _, description in reports} == {"kroton budget (3 per 10 s)"}
    assert fake.now == pytest.approx(1_010.0)


def test_database_budget_is_shared_by_instances_and_separate_per_bucket(sqlite_url: str) -> None:
    fake = FakeTime()
    options = dict(safety_margin_seconds=0.0, clock=fake.clock, sleep=fake.sleep)
    first = DatabaseRateBudget(sqlite_url, "kroton", 2, 10.0, **options)
    second = DatabaseRateBudget(sqlite_url, "kroton", 2, 10.0, **options)
    catalog = DatabaseRateBudget(sqlite_url, "catalog", 2, 10.0, **options)
    assert first.try_acquire() == 0.0
    assert second.try_acquire() == 0.0
    assert first.try_acquire() == pytest.approx(10.0)  # the other instance's draw counts
    assert catalog.try_acquire() == 0.0


def test_safety_margin_lengthens_the_window(sqlite_url: str) -> None:
    fake = FakeTime()
    budget = DatabaseRateBudget(
        sqlite_url, "kroton", 1, 5.0, safety_margin_seconds=0.5, clock=fake.clock
    )
    assert budget.try_acquire() == 0.0
    assert budget.try_acquire() == pytest.approx(5.5)


def test_postgresql_budget_takes_its_time_from_the_database_server(postgres_url: str) -> None:
    # This process's clock says 1970 and never moves: the server's clock is the one used.
    fake = FakeTime()
    options = dict(safety_margin_seconds=0.0, clock=fake.clock, sleep=fake.sleep)
    budget = DatabaseRateBudget(postgres_url, "kroton", 2, 1.0, **options)
    assert [budget.try_acquire(), budget.try_acquire()] == [0.0, 0.0]
    assert 0.5 < budget.try_acquire() <= 1.0
    time.sleep(1.05)
    assert budget.try_acquire() == 0.0


def test_no_clock_makes_a_wait_longer_than_a_window(sqlite_url: str) -> None:
    # An entry written by a process whose clock ran an hour ahead.
    fake = FakeTime()
    ahead = DatabaseRateBudget(sqlite_url, "kroton", 1, 10.0, clock=lambda: fake.now + 3600)
    assert ahead.try_acquire() == 0.0
    sleeps: list[float] = []
    budget = DatabaseRateBudget(
        sqlite_url,
        "kroton",
        1,
        10.0,
        clock=fake.clock,
        sleep=_stop_after(sleeps, 3),
        wake_jitter_seconds=0.0,
        max_sleep_seconds=100.0,
    )
    with pytest.raises(_Stop):
        budget.acquire()
    assert len(sleeps) == 3 and max(sleeps) <= budget.effective_window


class _Stop(Exception):
    pass


def _stop_after(sleeps: list[float], count: int):
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) >= count:
            raise _Stop

    return sleep
