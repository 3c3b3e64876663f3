"""The lead's lifecycle as the design document tells it, one test per rule: followed until its
story ends, past-cycle inscriptions do not block a new registration, allJobs runs every
action, the policy for leads whose gender stays unknown, and one active subscription per CPF."""

from __future__ import annotations

import itertools
from datetime import timedelta

import dagster as dg
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from kroton_pipeline.db.models import FollowUpSnapshot, StatusHistory, Subscription
from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.sandbox.validation import cpf_digits
from kroton_pipeline.settings import BusinessRules, erasure_keys, today_in_sao_paulo
from kroton_pipeline.steps.check_follow_ups import check_follow_ups
from kroton_pipeline.steps.erasure import erase_person
from kroton_pipeline.steps.register_leads import register_leads
from kroton_pipeline_tests.pipeline.conftest import Pipeline, past_days
from kroton_pipeline_tests.reliability.pipeline_state import kroton_client

pytestmark = pytest.mark.integration


def _to_register(pipeline: Pipeline) -> list[dict]:
    return [s for s in pipeline.subscriptions() if s["status"] == "to_register"]


def test_a_registered_lead_is_followed_until_its_intake_is_over_then_tracking_ends_visibly(
    pipeline: Pipeline,
) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=30, seed=41)
    pipeline.prepare(day)
    client = kroton_client(pipeline.sandbox.kroton_url)
    rules = BusinessRules()
    register_leads(pipeline.engine, client, day, rules, "register", poll_after=timedelta(0))
    pipeline.sandbox.advance(15 * 60)  # Kroton processes the pending ones; the pass polls them
    register_leads(pipeline.engine, client, day, rules, "poll", poll_after=timedelta(0))
    today = today_in_sao_paulo()
    closes = today + timedelta(days=60)  # the offer's inscription window: 60 days from now
    with pipeline.engine.begin() as conn:
        conn.execute(
            update(Subscription)
            .where(Subscription.status == "registered")
            .values(intake_ends_on=closes, registered_at=Subscription.created_at)
        )
    last_day = closes + timedelta(days=rules.tracking_grace_days)
    snapshot = today
    while snapshot <= last_day + timedelta(days=2):
        check_follow_ups(pipeline.engine, client, snapshot, f"checker-{snapshot}")
        pipeline.sandbox.advance(86_400)
        snapshot += timedelta(days=1)
    client.close()

    with pipeline.engine.connect() as conn:
        still = conn.execute(select(Subscription).where(Subscription.status == "registered")).all()
        looks = conn.execute(select(FollowUpSnapshot)).all()
        ended = conn.execute(
            select(StatusHistory).where(StatusHistory.reason.like("tracking_ended%"))
        ).all()
    assert still, "some leads stay registered (Inscrito, Classificado) in the sandbox"
    by_lead: dict[int, list] = {}
    for look in looks:
        by_lead.setdefault(look.subscription_id, []).append(look.snapshot_date)
    for lead in still:
        days = sorted(by_lead[lead.id])
        ages = [(d - today).days for d in days]
        assert max(ages) > 39, "followed past the old day-39 cut-off"
        assert days[-1] == last_day, "the last look falls on the tracking's last day"
        gaps = [later - earlier for earlier, later in itertools.pairwise(days)]
        assert max(gaps) <= timedelta(days=rules.tracking_max_interval_days)
        assert lead.next_check_on is None and lead.status_reason.startswith("tracking_ended")
    assert {row.subscription_id for row in ended} == {lead.id for lead in still}
    assert all(row.from_status == row.to_status == "registered" for row in ended)


def test_absent_or_stale_inscriptions_of_past_cycles_do_not_block_a_new_registration(
    pipeline: Pipeline,
) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=20, seed=42)
    pipeline.prepare(day)
    absent, stale, current = _to_register(pipeline)[:3]
    pipeline.sandbox.preseed(absent["cpf"], classificacao="Ausente", age_days=200)
    pipeline.sandbox.preseed(stale["cpf"], classificacao="Inscrito", age_days=400)
    pipeline.sandbox.preseed(current["cpf"], classificacao="Classificado", age_days=30)

    pipeline.run("register", day)

    created = pipeline.inscriptions_by_cpf(origin="registered")
    assert cpf_digits(absent["cpf"]) in created and cpf_digits(stale["cpf"]) in created
    assert cpf_digits(current["cpf"]) not in created  # followed, never registered again
    reasons = {
        h["subscription_id"]: h["reason"] for h in pipeline.history() if h["to_status"] != "to_sync"
    }
    assert "earlier inscriptions ignored: 1 dropped" in reasons[absent["id"]]
    assert "earlier inscriptions ignored: 1 stale" in reasons[stale["id"]]
    assert "active inscription of the current intake" in reasons[current["id"]]


def test_all_jobs_runs_every_action_the_checker_included(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=10, seed=43)
    result = pipeline.run("all_jobs", day)
    materialized = {
        event.step_materialization_data.materialization.asset_key.to_user_string()
        for event in result.get_asset_materialization_events()
    }
    assert materialized >= {
        "subscriptions",
        "subscription_genders",
        "course_matches",
        "registrations",
        "follow_up_snapshots",
    }
    assert pipeline.instance.get_materialized_partitions(dg.AssetKey("follow_up_snapshots")) == {
        day.isoformat()
    }


def test_a_lead_whose_gender_stays_unknown_is_sent_as_configured_under_the_send_policy(
    pipeline: Pipeline,
) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=10, seed=44)
    pipeline.prepare(day)
    lead = _to_register(pipeline)[0]
    with pipeline.engine.begin() as conn:
        conn.execute(update(Subscription).where(Subscription.id == lead["id"]).values(gender="NI"))
    rules = BusinessRules(gender_unknown_policy="send", gender_unknown_send_as="F")
    client = kroton_client(pipeline.sandbox.kroton_url)
    register_leads(pipeline.engine, client, day, rules, "send-ni")
    client.close()
    after = {s["id"]: s for s in pipeline.subscriptions()}[lead["id"]]
    assert after["status"] in ("registered", "awaiting_register", "enrolled")
    assert "gender unknown, sent as F" in (after["status_reason"] or "") or any(
        "gender unknown, sent as F" in (h["reason"] or "")
        for h in pipeline.history()
        if h["subscription_id"] == lead["id"]
    )


def test_one_active_subscription_per_cpf_a_person_whose_attempt_ended_without_success_returns(
    db_pipeline: Pipeline,
) -> None:
    first_day, second_day = past_days(2)
    db_pipeline.export(first_day, size=12, seed=47, bad_share=0)
    assert db_pipeline.run("import_leads", first_day).success
    leads = db_pipeline.subscriptions()[:6]
    ids = [lead["id"] for lead in leads]
    cpfs = [lead["cpf"] for lead in leads]
    S = Status
    moves = [
        [S.EMPTY_COURSE],  # ended without success: returns
        [S.REGISTER_FAILED],  # ended without success: returns
        [S.TO_REGISTER, S.DROPPED],  # ended without success: returns
        [S.TO_REGISTER, S.ENROLLED],  # enrolled: never returns
        [],  # still active (to_sync): the next export's row is rejected
        [],  # erased on request: never returns
    ]
    with db_pipeline.engine.begin() as conn:
        for sub_id, steps in zip(ids, moves, strict=True):
            for status in steps:
                apply_status_changes(conn, [StatusChange(sub_id, status, "test")], "setup")
    erase_person(db_pipeline.engine, cpfs[5], "erase", keys=erasure_keys())
    history_before = [row for row in db_pipeline.history() if row["subscription_id"] in ids]

    # The next export names the same six people again.
    frame = generate_export(second_day, size=6, seed=48, bad_share=0)
    frame["cpf"] = cpfs
    write_export(frame, db_pipeline.landing, second_day)
    result = db_pipeline.run("import_leads", second_day)
    (event,) = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["returned"].value == 3
    assert metadata["created"].value == 3

    by_cpf: dict[str, list[dict]] = {}
    for lead in db_pipeline.subscriptions():
        by_cpf.setdefault(lead["cpf"], []).append(lead)
    for cpf, first in zip(cpfs[:3], ("empty_course", "register_failed", "dropped"), strict=True):
        earlier, later = sorted(by_cpf[cpf], key=lambda lead: lead["attempt_number"])
        assert (earlier["status"], earlier["attempt_number"]) == (first, 1)
        assert (later["status"], later["attempt_number"]) == ("to_sync", 2)
        assert later["import_date"] == second_day
    for cpf in cpfs[3:5]:
        assert len(by_cpf[cpf]) == 1
    assert cpfs[5] not in by_cpf
    # The earlier attempts keep their history untouched.
    assert [row for row in db_pipeline.history() if row["subscription_id"] in ids] == (
        history_before
    )
    reasons = {row["row_number"]: row["reason"] for row in db_pipeline.rejections(second_day)}
    assert reasons == {4: "cpf_already_imported", 5: "cpf_already_imported", 6: "erased_on_request"}

    # The same export again: nobody returns twice.
    again = db_pipeline.run("import_leads", second_day)
    (event,) = again.get_asset_materialization_events()
    assert event.step_materialization_data.materialization.metadata["returned"].value == 0
    assert sum(len(attempts) for attempts in by_cpf.values()) == len(db_pipeline.subscriptions())

    # The database holds the rule too: a second active attempt of one CPF is refused.
    active = by_cpf[cpfs[4]][0]
    copy = {k: v for k, v in active.items() if k not in ("id", "status_reason")}
    with pytest.raises(IntegrityError), db_pipeline.engine.begin() as conn:
        conn.execute(insert(Subscription).values({**copy, "attempt_number": 2}))
