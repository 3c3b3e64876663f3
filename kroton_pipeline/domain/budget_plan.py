"""The daily Kroton budget plan: registrations first, follow-ups within what is left.

Kroton allows 100 requests per 5 minutes — 28,800 a day — for everything: CPF pre-checks,
registrations, polling and the daily follow-up. Tracked leads pile up over a whole intake,
so the follow-up always has a capped share (default 30%) and, on a day when registrations
need less, what they leave; each lead is looked at less often as it ages
(``domain.kroton_api``). New leads always come first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kroton_pipeline.domain.kroton_api import TrackingRules, look_days

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

    def sustainable_intake(self, calls_per_lead: float, look_ups_per_lead: float) -> int:
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


def looks_per_lead(tracked_days: int, rules: TrackingRules | None = None) -> int:
    """Follow-up look-ups a lead costs if it is followed for ``tracked_days`` days."""
    return len(look_days(tracked_days, rules or TrackingRules()))


def steady_state_daily_looks(
    new_per_day: int, tracked_days: int, rules: TrackingRules | None = None
) -> int:
    """Follow-up look-ups per day once every cohort of a ``tracked_days`` intake is followed."""
    return new_per_day * looks_per_lead(tracked_days, rules)
