"""30 simulated days of the daily budget plan: 50,000 tracked leads, 1,500 new leads a day,
followed on the tracking schedule until their intake is over.

Kroton's side is the sandbox's own lifecycle (``kroton_pipeline.sandbox.lifecycle``: the same
deterministic classification paths the HTTP sandbox serves), called in-process on the
sandbox clock — at this scale (≈ 300,000 look-ups) going over HTTP would only measure the
loopback. Our side is the product: the follow-up selection with its cap
(``check_follow_ups.due_leads``), the tracking schedule (``tracking.next_look``), the
classification table and the status machine (``apply_status_changes``), on a real SQLite file.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import bindparam, func, select, update

from kroton_pipeline.db.engine import insert_rows, make_engine, upgrade
from kroton_pipeline.db.models import Subscription
from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes
from kroton_pipeline.domain.budget_plan import CALLS_PER_NEW_LEAD, BudgetPlan
from kroton_pipeline.domain.kroton_api import (
    TrackingRules,
    look_days,
    next_look,
    status_for_classification,
)
from kroton_pipeline.domain.statuses import TRACKED, Status
from kroton_pipeline.sandbox.lifecycle import (
    DAY,
    Inscription,
    Timing,
    classification_at,
    classification_history,
)
from kroton_pipeline.steps.check_follow_ups import due_leads

SEED = 11
TRACKED_AT_START = 50_000
NEW_PER_DAY = 1_500
DAYS = 30
START = date(2026, 6, 1)
# Every inscription answers SUCCESS at once: pending ones are the registration pass's job.
TIMING = Timing(immediate_success_share=1.0)
FINAL_SEEN = (Status.ENROLLED, Status.DROPPED)
RULES = TrackingRules()
# The leads already tracked were registered over the last 60 days.
OLDEST_AT_START = 60


def _sandbox_time(day: date) -> float:
    """Sandbox clock at noon of ``day`` (the checker runs during the day)."""
    return (day - START).days * DAY + DAY / 2


def _lead_row(number: int, registered_on: date) -> dict:
    registered_at = datetime.combine(registered_on, datetime.min.time()) + timedelta(hours=9)
    return {
        "id": number,
        "cpf": f"{number:011d}",
        "user_name": "Lead",
        "course_name": "Administração",
        "unit_id": 1,
        "course_type": "Bacharelado",
        "modality": "EAD",
        "monthly_price": 100,
        "capture_period": 20261,
        "system": "COLABORAR",
        "import_date": registered_on,
        "status": Status.REGISTERED.value,
        "registered_at": registered_at,
        "last_check": registered_at,
        "next_check_on": next_look(registered_on, registered_at, None, None, RULES),
        "kroton_subscription_id": f"I{number}",
        "kroton_system": "COLABORAR",
        "attempts": 0,
        "address_defaulted": False,
        "created_at": registered_at,
        "updated_at": registered_at,
    }


@pytest.mark.slow
def test_thirty_days_of_follow_ups_stay_within_cap_and_schedule(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'simulation.db'}"
    upgrade(url)
    engine = make_engine(url)
    plan = BudgetPlan()
    allowance = plan.follow_up_allowance(NEW_PER_DAY * CALLS_PER_NEW_LEAD)
    rng = random.Random(SEED)
    inscriptions: dict[int, Inscription] = {}
    checks: dict[int, list[date]] = defaultdict(list)
    registered_on: dict[int, date] = {}

    def register(numbers: list[int], day: date) -> None:
        rows = []
        for number in numbers:
            rows.append(_lead_row(number, day))
            registered_on[number] = day
            inscriptions[number] = Inscription(
                inscricao_id=f"I{number}", cpf=f"{number:011d}", sistema="COLABORAR",
                curso="Administração", unidade="1", offer_ids=[], id_afiliado="DL00QUERO12991",
                created_at=_sandbox_time(day) - DAY / 2 + 9 * 3600,
            )  # fmt: skip
        with engine.begin() as conn:
            insert_rows(conn, Subscription, rows)

    # 50,000 leads already tracked, registered over the last weeks.
    next_id = 1
    backlog: dict[date, list[int]] = defaultdict(list)
    for _ in range(TRACKED_AT_START):
        backlog[START - timedelta(days=rng.randrange(0, OLDEST_AT_START))].append(next_id)
        next_id += 1
    for day, numbers in sorted(backlog.items()):
        register(numbers, day)
    # Bring the existing leads up to date, as the days before the simulation would have.
    with engine.begin() as conn:
        for number, day in registered_on.items():
            age = (START - day).days
            upcoming = [a for a in look_days(age + RULES.max_interval_days, RULES) if a >= age]
            conn.execute(
                update(Subscription)
                .where(Subscription.id == number)
                .values(next_check_on=day + timedelta(days=upcoming[0]) if upcoming else None)
            )

    follow_up_spent: list[int] = []
    for offset in range(DAYS):
        today = START + timedelta(days=offset)
        # Registrations first: the day's new leads are all sent the day they arrive.
        assert plan.new_leads_per_day(CALLS_PER_NEW_LEAD) >= NEW_PER_DAY
        register(list(range(next_id, next_id + NEW_PER_DAY)), today)
        next_id += NEW_PER_DAY

        leads = due_leads(engine, today, limit=allowance - 1)
        follow_up_spent.append(len(leads) + 1)  # one look-up each + the day's token
        now = _sandbox_time(today)
        changes: list[StatusChange] = []
        schedule: list[dict] = []
        for lead in leads:
            number = lead["id"]
            checks[number].append(today)
            status = status_for_classification(
                classification_at(inscriptions[number], now, SEED, TIMING)
            )
            if status is not None and status.value != lead["status"]:
                changes.append(StatusChange(number, status, "daily follow-up"))
            seen = classification_at(inscriptions[number], now, SEED, TIMING)
            schedule.append(
                {"id": number, "due": next_look(today, lead["registered_at"], seen, None, RULES)}
            )
        checked_at = datetime.combine(today, datetime.min.time()) + timedelta(hours=7)
        with engine.begin() as conn:
            apply_status_changes(conn, changes, run_id=f"sim-{today}")
            if schedule:
                conn.execute(
                    update(Subscription)
                    .where(Subscription.id == bindparam("lead_id"))
                    .values(next_check_on=bindparam("due"), last_check=checked_at),
                    [{"lead_id": row["id"], "due": row["due"]} for row in schedule],
                )
        # Nobody due today was left for tomorrow: the cap was enough for the schedule.
        overdue = due_leads(engine, today, limit=1)
        assert overdue == [], f"{today}: tracked leads left unchecked past their schedule"

    # Follow-ups stayed within what registrations left of the budget every day.
    assert max(follow_up_spent) <= allowance
    # Every change Kroton made was picked up at the first scheduled look after it.
    end = START + timedelta(days=DAYS - 1)
    missed = 0
    for number, ins in inscriptions.items():
        for when, classification in classification_history(ins, SEED, TIMING)[1:]:
            changed_on = START + timedelta(days=int(when // DAY))
            interval = RULES.max_interval_days  # the longest a change may wait to be seen
            window = changed_on + timedelta(days=interval)
            seen = checks[number]
            in_view = changed_on >= START and window <= end
            if in_view and not any(changed_on <= day <= window for day in seen):
                missed += 1
            if status_for_classification(classification) in FINAL_SEEN:
                break  # no longer tracked: later changes are not ours to see
    assert missed == 0
    with engine.connect() as conn:
        tracked = conn.execute(
            select(func.count()).where(Subscription.status.in_([s.value for s in TRACKED]))
        ).scalar_one()
        enrolled = conn.execute(
            select(func.count()).where(Subscription.status == Status.ENROLLED.value)
        ).scalar_one()
    assert tracked > 0 and enrolled > 0
