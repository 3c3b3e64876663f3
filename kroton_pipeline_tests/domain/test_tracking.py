"""How long and how often a registered lead is followed: until its intake is over."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from kroton_pipeline.domain.kroton_api import (
    TrackingRules,
    intake_end,
    look_days,
    next_look,
    tracking_ended_reason,
    tracking_ends_on,
)
from kroton_pipeline.domain.statuses import StatusReason, reason_code

RULES = TrackingRules()
REGISTERED = datetime(2026, 3, 2, 10, 0)


def test_a_lead_is_followed_until_its_inscription_window_closes_plus_the_grace() -> None:
    closes = date(2026, 6, 30)
    assert tracking_ends_on(REGISTERED.date(), closes, RULES) == closes + timedelta(days=60)
    last = closes + timedelta(days=60)
    assert next_look(last - timedelta(days=1), REGISTERED, None, closes, RULES) == last
    assert next_look(last, REGISTERED, None, closes, RULES) is None  # then tracking ends


def test_without_a_known_window_a_lead_is_followed_for_the_horizon() -> None:
    end = REGISTERED.date() + timedelta(days=365)
    assert tracking_ends_on(REGISTERED.date(), None, RULES) == end
    assert next_look(end - timedelta(days=200), REGISTERED, None, None, RULES) is not None


def test_a_lead_is_still_seen_months_later_when_an_enrolment_season_runs_long() -> None:
    ages = look_days(180, RULES)
    assert ages[:3] == [3, 6, 9]  # dense while Kroton's classification moves
    assert ages[-1] == 180 and len(ages) > 10  # never dropped after day 39
    gaps = [later - earlier for earlier, later in itertools.pairwise(ages)]
    assert max(gaps) <= RULES.max_interval_days


def test_classificado_is_watched_every_few_days_in_its_first_month() -> None:
    today = REGISTERED.date() + timedelta(days=15)
    assert next_look(today, REGISTERED, "CLASSIFICADO", None, RULES) == today + timedelta(days=3)
    assert next_look(today, REGISTERED, "Inscrito", None, RULES) == today + timedelta(days=7)
    later = REGISTERED.date() + timedelta(days=90)
    assert next_look(later, REGISTERED, "Classificado", None, RULES) == later + timedelta(days=14)


def test_a_pending_lead_is_looked_at_the_next_day() -> None:
    assert next_look(date(2026, 3, 5), None, None, None, RULES) == date(2026, 3, 6)


def test_the_longest_gap_is_a_setting() -> None:
    weekly = TrackingRules(max_interval_days=7)
    ages = look_days(120, weekly)
    assert max(b - a for a, b in itertools.pairwise(ages)) == 7


def test_the_intake_ends_with_the_first_choice_offers_inscription_window() -> None:
    offers = [{"dtTerminoInscricao": "2026-06-30T23:59:59"}, {"dtTerminoInscricao": "2026-07-31"}]
    assert intake_end(offers) == date(2026, 6, 30)
    assert intake_end([{"dtTerminoInscricao": "not a date"}]) is None
    assert intake_end([{}]) is None and intake_end(None) is None


def test_tracking_ended_says_whether_the_window_or_the_horizon_ended_it() -> None:
    by_window = tracking_ended_reason(date(2026, 6, 30))
    by_horizon = tracking_ended_reason(None)
    assert reason_code(by_window) is reason_code(by_horizon) is StatusReason.TRACKING_ENDED
    assert "2026-06-30" in by_window and "horizon" in by_horizon
