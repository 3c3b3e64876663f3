"""The daily Kroton budget plan: registrations first, follow-ups within a cap.

Kroton allows 100 requests per 5 minutes — 28,800 a day — for everything: CPF pre-checks,
registrations, polling and the daily follow-up. Tracked leads pile up every day, so the
follow-up gets a capped share (default 30%) and looks at each lead less often as it ages;
new leads always come first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

SECONDS_PER_DAY = 86_400

# Look-up + POST per new lead, plus the token amortised over the run (measured ≈ 2.01).
CALLS_PER_NEW_LEAD = 2.0


@dataclass(frozen=True)
class BudgetPlan:
    """How one day's Kroton requests are shared between kinds of work."""

    requests_per_window: int = 100
    window_seconds: float = 300.0
    follow_up_share: float = 0.30

    @property
    def daily_requests(self) -> int:
        return int(self.requests_per_window * SECONDS_PER_DAY / self.window_seconds)

    @property
    def follow_up_cap(self) -> int:
        """Requests the daily follow-up may spend."""
        return int(self.daily_requests * self.follow_up_share)

    @property
    def registration_share(self) -> int:
        """Requests reserved for pre-checks, registrations and polling."""
        return self.daily_requests - self.follow_up_cap

    def follow_up_allowance(self, registration_demand: float) -> int:
        """Requests the follow-up may spend today, given what registrations will need.

        Registrations come first: they keep what they need, up to their share; the
        follow-up gets at least its cap and, on a quiet day, whatever registrations leave.
        """
        reserved = min(self.registration_share, math.ceil(max(registration_demand, 0)))
        return max(self.follow_up_cap, self.daily_requests - reserved)

    def sustainable_intake(self, calls_per_lead: float, look_ups_per_lead: int) -> int:
        """New leads a day that can be registered *and* followed for their whole schedule."""
        by_registrations = self.new_leads_per_day(calls_per_lead)
        by_whole_day = int(self.daily_requests / (calls_per_lead + look_ups_per_lead))
        return min(by_registrations, by_whole_day)

    def new_leads_per_day(self, calls_per_lead: float = CALLS_PER_NEW_LEAD) -> int:
        """New leads the registration share can send in a day."""
        return int(self.registration_share / calls_per_lead)

    def as_metadata(self) -> dict[str, float | int]:
        return {
            "budget/daily_requests": self.daily_requests,
            "budget/follow_up_cap": self.follow_up_cap,
            "budget/registration_share": self.registration_share,
            "budget/new_leads_per_day": self.new_leads_per_day(),
        }


def days_to_clear_backlog(
    backlog: int, plan: BudgetPlan, calls_per_lead: float = CALLS_PER_NEW_LEAD
) -> float:
    """Days until every lead waiting to be sent is sent, at the plan's registration share."""
    per_day = plan.new_leads_per_day(calls_per_lead)
    if backlog <= 0:
        return 0.0
    if per_day <= 0:
        return math.inf
    return round(backlog / per_day, 2)


# Follow-up schedule: (age in days below which, days between checks); past the last bound
# the lead gets one last look and is then no longer followed. Why so sparse: with 1,500 new
# leads a day and 30% of 28,800 requests for follow-ups, a lead can be looked at about
# 5.7 times in its life. This schedule looks at days 3, 6, 9, 24 and 39 (5 look-ups),
# dense while Kroton's classification moves (exam and call-up in the first days), sparse
# after; it fits 1,500 new leads a day in 7,500 look-ups.
FOLLOW_UP_SCHEDULE: tuple[tuple[int, int], ...] = ((9, 3), (30, 15))
TRACKING_CUT_OFF_DAYS = FOLLOW_UP_SCHEDULE[-1][0]


def follow_up_interval(age_days: int) -> int | None:
    """Days until the next look at a lead registered ``age_days`` ago; None: stop tracking."""
    for bound, interval in FOLLOW_UP_SCHEDULE:
        if age_days < bound:
            return interval
    return None


def next_check_on(registered_at: datetime | date | None, today: date) -> date | None:
    """When a tracked lead is looked at again (``FOLLOW_UP_SCHEDULE``); None: no more.

    A lead without a registration time yet is looked at the next day.
    """
    if registered_at is None:
        return today + timedelta(days=1)
    registered_on = registered_at.date() if isinstance(registered_at, datetime) else registered_at
    interval = follow_up_interval((today - registered_on).days)
    return None if interval is None else today + timedelta(days=interval)


def check_ages() -> list[int]:
    """The ages (days after registration) at which a lead is looked at, on schedule."""
    start = date(2000, 1, 1)
    ages: list[int] = []
    due = next_check_on(start, start)
    while due is not None:
        ages.append((due - start).days)
        due = next_check_on(start, due)
    return ages


def steady_state_daily_checks(new_per_day: int) -> int:
    """Follow-up look-ups per day once the schedule is full, for ``new_per_day`` new leads."""
    return new_per_day * len(check_ages())


def max_days_between_checks() -> int:
    """The longest wait the schedule allows between two looks at a lead."""
    return max(interval for _, interval in FOLLOW_UP_SCHEDULE)
