"""Followed until the intake ends, for the same 28,800 requests a day: ours registers and
follows at least five times as many new leads as the design document's daily pattern, and
no tracked lead waits longer than the longest interval between two looks."""

from __future__ import annotations

from benchmarks.lifecycle_simulation import simulate
from kroton_pipeline.domain.budget_plan import BudgetPlan
from kroton_pipeline.domain.kroton_api import TrackingRules


def test_ours_follows_five_times_the_documents_intake_until_the_intake_ends() -> None:
    outcomes = simulate()
    ours, document = outcomes["ours"], outcomes["document"]
    print(f"new leads/day: ours {ours.intake:,}, the document's {document.intake:,}")
    assert ours.intake >= 5 * document.intake
    assert ours.longest_gap <= TrackingRules().max_interval_days


def test_a_shorter_longest_gap_costs_intake_and_stays_within_the_budget() -> None:
    weekly = simulate(TrackingRules(max_interval_days=7))["ours"]
    fortnightly = simulate(TrackingRules(max_interval_days=14))["ours"]
    assert weekly.longest_gap <= 7
    assert weekly.intake < fortnightly.intake
    assert weekly.intake * 2.03 <= BudgetPlan().registration_share
