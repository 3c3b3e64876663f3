"""How long, and how often, a registered lead is followed.

A registered lead is followed until its story ends: a final status (enrolled, dropped,
failed), or its intake is over — the end of the chosen offer's inscription window
(``dtTerminoInscricao``) plus a grace for enrolment, or a horizon after registration when no
date is known. Then tracking ends, visibly (``tracking_ended`` in ``status_history``).

How often it is looked at follows what Kroton says: every few days while the lead is
*Classificado* in its first month (a call-up — *Convocado*, which counts as enrolled — may
come any day), and otherwise looks that thin out with age — every 3 days in the first 10
days, weekly until day 30, then every ``max_interval_days`` — never further apart than
that. Enrolment seasons last months; a lead that becomes *Convocado* or *Aluno* in month
four is still seen within two weeks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kroton_pipeline.domain.kroton_answers import normalise_classification
from kroton_pipeline.domain.status_reasons import StatusReason, reason
from kroton_pipeline.settings import BusinessRules


@dataclass(frozen=True)
class TrackingRules:
    """The tracking settings (``KROTON_TRACKING_*``)."""

    grace_days: int = 60  # after the inscription window closes, for enrolment
    horizon_days: int = 365  # when no inscription window is known
    max_interval_days: int = 14  # the longest wait between two looks at a tracked lead
    classified_interval_days: int = 3  # Classificado: a call-up may come any day


# (age in days below which, days between looks); past the last bound: max_interval_days.
DECAYING_INTERVALS: tuple[tuple[int, int], ...] = ((10, 3), (30, 7))
# A lead registered today is first looked at this many days later.
FIRST_LOOK_DAYS = 3
# Classificado is watched closely this long after registration (call-ups come early), then
# decays like the others.
CLASSIFIED_WATCH_DAYS = 30


def as_day(moment: datetime | date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def intake_end(options: Sequence[Mapping[str, Any]] | None) -> date | None:
    """The first-choice offer's inscription window end (``dtTerminoInscricao``), if known."""
    text = str((options or [{}])[0].get("dtTerminoInscricao") or "")[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def tracking_ended_reason(intake_ends_on: date | None) -> str:
    """The ``tracking_ended`` reason recorded when a lead's intake is over."""
    detail = (
        f"intake over (inscriptions closed {intake_ends_on.isoformat()}, grace passed)"
        if intake_ends_on
        else "intake over (no inscription window known, horizon passed)"
    )
    return reason(StatusReason.TRACKING_ENDED, detail)


def tracking_ends_on(
    registered_on: date, intake_ends_on: date | None, rules: TrackingRules
) -> date:
    """The last day a registered lead is followed."""
    if intake_ends_on is not None:
        return max(intake_ends_on + timedelta(days=rules.grace_days), registered_on)
    return registered_on + timedelta(days=rules.horizon_days)


def interval_days(age_days: int, classification: str | None, rules: TrackingRules) -> int:
    """Days until the next look at a lead registered ``age_days`` ago."""
    classified = classification and normalise_classification(classification) == "classificado"
    if classified and age_days < CLASSIFIED_WATCH_DAYS:
        return min(rules.classified_interval_days, rules.max_interval_days)
    for bound, interval in DECAYING_INTERVALS:
        if age_days < bound:
            return min(interval, rules.max_interval_days)
    return rules.max_interval_days


def next_look(
    today: date,
    registered_at: datetime | date | None,
    classification: str | None,
    intake_ends_on: date | None,
    rules: TrackingRules,
) -> date | None:
    """When a tracked lead is looked at next; ``None``: its tracking is over (end it now).

    The last look falls on the tracking's last day. A lead without a registration time yet
    (pending at Kroton) is looked at again the next day.
    """
    if registered_at is None:
        return today + timedelta(days=1)
    registered_on = as_day(registered_at)
    end = tracking_ends_on(registered_on, intake_ends_on, rules)
    if today >= end:
        return None
    age = (today - registered_on).days
    wait = FIRST_LOOK_DAYS if age <= 0 else interval_days(age, classification, rules)
    return min(today + timedelta(days=wait), end)


def look_days(
    tracked_days: int, rules: TrackingRules, classification: str | None = None
) -> list[int]:
    """The ages (days after registration) at which a lead followed for ``tracked_days`` days
    is looked at, if Kroton's classification stays ``classification``."""
    start = date(2000, 1, 1)
    end = start + timedelta(days=tracked_days)
    ages: list[int] = []
    due = next_look(start, start, classification, None, rules)
    while due is not None and due <= end:
        ages.append((due - start).days)
        if due >= end:
            break
        due = next_look(due, start, classification, None, rules)
        if due is not None:
            due = min(due, end)
    return ages


def tracking_rules(rules: BusinessRules) -> TrackingRules:
    """The tracking settings out of the business rules."""
    return TrackingRules(
        grace_days=rules.tracking_grace_days,
        horizon_days=rules.tracking_horizon_days,
        max_interval_days=rules.tracking_max_interval_days,
        classified_interval_days=rules.tracking_classified_interval_days,
    )
