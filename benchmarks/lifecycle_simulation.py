"""The lifecycle over a whole intake: how many new leads a day Kroton's budget can register
*and* follow until their story ends, ours against the design document's own pattern.

The model, the same for both patterns:
- Kroton's budget: 100 requests per 5 minutes, 28,800 a day, for everything.
- Each registered lead follows one of the sandbox's classification paths
  (``sandbox.lifecycle.fates``, e.g. Inscrito → Classificado → Convocado on days 0, 2, 5)
  and is followed until a final status (enrolled, dropped) or until its intake is over: its
  offer's inscription window closes 30–120 days after registration (uniformly, in 10-day
  steps), plus the grace for enrolment.
- Ours: about 2.03 requests per new lead (pre-check + POST, measured by
  ``benchmarks.api_economy``), follow-up looks on the product's schedule
  (``domain.kroton_api.next_look``), the follow-up getting what registrations leave
  (``domain.budget_plan.BudgetPlan``).
- The document's pattern: per new lead an inscription look-up, an enrolment look-up and a POST
  (3.06 requests, measured the same way), then every active lead looked up daily.

Each day's demand is the day's registrations plus the looks due for every cohort still in
view; it grows as cohorts accumulate and is highest once the oldest cohorts' intakes are
over (then it repeats). Bisection finds the largest daily intake whose every day fits the
budget with no look deferred. The longest gap between two looks at any tracked lead is
reported too.

``python -m benchmarks.lifecycle_simulation``
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from benchmarks.harness import KROTON_REQUESTS_PER_DAY, Figure, print_report, ratio
from kroton_pipeline.domain.budget_plan import BudgetPlan
from kroton_pipeline.domain.kroton_api import TrackingRules, next_look, status_for_classification
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.sandbox.lifecycle import DAY, Timing, fates, path_offsets

OURS_CALLS_PER_NEW_LEAD = 2.03
DOCUMENT_CALLS_PER_NEW_LEAD = 3.06
WINDOW_DAYS = tuple(range(30, 121, 10))  # inscription window closes 30..120 days later
FINAL = (Status.ENROLLED, Status.DROPPED)
START = date(2026, 1, 1)


@dataclass(frozen=True)
class LeadType:
    """One kind of lead: its share, the ages (days) of its looks, and their longest gap."""

    share: float
    look_ages: tuple[int, ...]

    @property
    def longest_gap(self) -> int:
        ages = (0, *self.look_ages)
        return max((b - a for a, b in itertools.pairwise(ages)), default=0)


def _classification_at(path: tuple[str, ...], age: int, timing: Timing) -> str:
    offsets = path_offsets(timing)
    current = path[0]
    for name in path:
        if offsets[name] <= age * DAY:
            current = name
    return current


def _ours(path: tuple[str, ...], window: int, rules: TrackingRules, timing: Timing) -> list[int]:
    """Look ages on the product's schedule, until a final status or the intake's end."""
    ages: list[int] = []
    closes = START + timedelta(days=window)
    due = next_look(START, START, None, closes, rules)
    while due is not None:
        age = (due - START).days
        ages.append(age)
        seen = _classification_at(path, age, timing)
        if status_for_classification(seen) in FINAL:
            break
        due = next_look(due, START, seen, closes, rules)
    return ages


def _daily(path: tuple[str, ...], window: int, rules: TrackingRules, timing: Timing) -> list[int]:
    """The document's pattern: a look every day, until a final status or the intake's end."""
    ages: list[int] = []
    for age in range(1, window + rules.grace_days + 1):
        ages.append(age)
        if status_for_classification(_classification_at(path, age, timing)) in FINAL:
            break
    return ages


def lead_types(
    schedule: Callable[[tuple[str, ...], int, TrackingRules, Timing], list[int]],
    rules: TrackingRules,
    timing: Timing | None = None,
) -> list[LeadType]:
    """Every (fate, window) combination with its share and its looks."""
    timing = timing or Timing()
    types = []
    for share, path in fates():
        for window in WINDOW_DAYS:
            ages = schedule(path, window, rules, timing)
            types.append(LeadType(share / len(WINDOW_DAYS), tuple(ages)))
    return types


def fits(intake: float, calls_per_new: float, types: list[LeadType], plan: BudgetPlan) -> bool:
    """Whether ``intake`` new leads a day fit every day of the budget: registrations first,
    then every look due that day (none deferred)."""
    looks_by_age: dict[int, float] = defaultdict(float)
    for kind in types:
        for age in kind.look_ages:
            looks_by_age[age] += kind.share
    registrations = intake * calls_per_new
    if registrations > plan.registration_share:
        return False
    allowance = plan.follow_up_allowance(registrations)
    due = 0.0
    for day in range(1, max(looks_by_age) + 2):  # cohorts of days 0..day-1 are in view
        due += intake * looks_by_age.get(day, 0.0)
        if due > allowance:
            return False
    return True


def sustainable_intake(calls_per_new: float, types: list[LeadType], plan: BudgetPlan) -> int:
    """The largest whole daily intake that fits (bisection)."""
    low, high = 0, int(plan.daily_requests / calls_per_new) + 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle, calls_per_new, types, plan):
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class Outcome:
    intake: int
    looks_per_lead: float
    longest_gap: int


def simulate(rules: TrackingRules | None = None, plan: BudgetPlan | None = None) -> dict:
    """Both patterns under one model: {"ours": Outcome, "document": Outcome}."""
    rules = rules or TrackingRules()
    plan = plan or BudgetPlan()
    outcomes = {}
    for name, schedule, calls in (
        ("ours", _ours, OURS_CALLS_PER_NEW_LEAD),
        ("document", _daily, DOCUMENT_CALLS_PER_NEW_LEAD),
    ):
        types = lead_types(schedule, rules)
        outcomes[name] = Outcome(
            intake=sustainable_intake(calls, types, plan),
            looks_per_lead=sum(kind.share * len(kind.look_ages) for kind in types),
            longest_gap=max(kind.longest_gap for kind in types),
        )
    return outcomes


def run() -> list[Figure]:
    """The table rows."""
    outcomes = simulate()
    ours, document = outcomes["ours"], outcomes["document"]
    name = "5 lifecycle over an intake"
    return [
        Figure(name, "Kroton requests a day (100 per 300 s)", f"{KROTON_REQUESTS_PER_DAY:,}"),
        Figure(
            name,
            "follow-up looks per lead until its story ends",
            f"{ours.looks_per_lead:.1f}",
            f"{document.looks_per_lead:.1f}",
            ratio(ours.looks_per_lead, document.looks_per_lead),
        ),
        Figure(
            name,
            "new leads/day registered and followed until their intake ends",
            f"{ours.intake:,}",
            f"{document.intake:,}",
            ratio(ours.intake, document.intake),
            "≥ 5× the document's",
            "met" if ours.intake >= 5 * document.intake else "MISSED",
        ),
        Figure(
            name,
            "longest gap between two looks at a tracked lead (days)",
            str(ours.longest_gap),
            str(document.longest_gap),
            target=f"≤ {TrackingRules().max_interval_days}",
            verdict="met" if ours.longest_gap <= TrackingRules().max_interval_days else "MISSED",
        ),
    ]


def main() -> int:
    started = time.perf_counter()
    print_report("Lifecycle over an intake", run(), time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
