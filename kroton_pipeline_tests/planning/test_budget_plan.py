"""The daily budget plan, the follow-up schedule and the backlog forecast.

The rules are described in docs/operations.md, Budget planning.
"""

from __future__ import annotations

import math
from datetime import date

from kroton_pipeline.domain.budget_plan import (
    BudgetPlan,
    days_to_clear_backlog,
    looks_per_lead,
    steady_state_daily_looks,
)
from kroton_pipeline.notifications.messages import run_finished_message
from kroton_pipeline.notifications.reporter import _forecast
from kroton_pipeline.notifications.run_facts import RunFacts

TODAY = date(2026, 11, 29)


def test_kroton_limit_gives_28800_requests_a_day_split_registrations_first() -> None:
    plan = BudgetPlan(requests_per_window=100, window_seconds=300, follow_up_share=0.3)
    assert plan.daily_requests == 28_800
    assert plan.follow_up_cap == 8_640
    assert plan.registration_share == 28_800 - 8_640
    assert plan.new_leads_per_day(2.0) == 10_080


def test_forecast_counts_days_of_registration_budget_for_the_backlog() -> None:
    plan = BudgetPlan()
    assert days_to_clear_backlog(0, plan) == 0
    assert days_to_clear_backlog(10_080, plan) == 1
    assert days_to_clear_backlog(25_200, plan) == 2.5
    starved = BudgetPlan(requests_per_window=1, window_seconds=86_400, follow_up_share=0.99)
    assert math.isinf(days_to_clear_backlog(5, starved))


def test_slack_summary_of_a_registration_pass_carries_the_forecast() -> None:
    facts = RunFacts(
        job="register",
        run_id="abcdef1234",
        partition="2026-11-28",
        materialized={
            "registrations": [
                {"forecast/backlog_to_send": 120, "forecast/days_to_send_backlog": 0.01}
            ]
        },
    )
    forecast = _forecast(facts)
    assert forecast == (120, 0.01)
    message = run_finished_message(
        "register", "abcdef1234", "SUCCESS", "2026-11-28", {"registered": 3}, 12.0, None, forecast
    )
    assert "Forecast: 120 lead(s) waiting to be sent" in str(message.payload("#c"))


def test_follow_up_gets_its_cap_on_a_busy_day_and_the_leftover_on_a_quiet_one() -> None:
    plan = BudgetPlan()
    assert plan.follow_up_allowance(registration_demand=50_000) == plan.follow_up_cap
    assert plan.follow_up_allowance(registration_demand=3_000) == 28_800 - 3_000
    assert plan.follow_up_allowance(registration_demand=0) == 28_800


def test_sustainable_intake_pays_for_registration_and_the_whole_follow_up_schedule() -> None:
    plan = BudgetPlan()
    looks = looks_per_lead(150)  # followed for a 150-day intake
    intake = plan.sustainable_intake(calls_per_lead=2.0, look_ups_per_lead=looks)
    assert intake == int(28_800 / (2 + looks))
    demand = intake * 2.0
    assert plan.follow_up_allowance(demand) >= steady_state_daily_looks(intake, 150)
