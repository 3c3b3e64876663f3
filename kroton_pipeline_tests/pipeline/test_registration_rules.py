"""Registration, one test per rule: the pre-check, register, poll, reconcile, dry run."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from kroton_pipeline.db.models import CourseOption, FollowUp, Subscription
from kroton_pipeline.sandbox.validation import cpf_digits
from kroton_pipeline_tests.pipeline.conftest import AT_KROTON, Pipeline, past_days, poll_now
from kroton_pipeline_tests.reliability.pipeline_state import let_claims_expire

pytestmark = pytest.mark.integration


def _to_register(pipeline: Pipeline) -> list[dict]:
    return [s for s in pipeline.subscriptions() if s["status"] == "to_register"]


def _metadata(result, asset: str = "registrations") -> dict:
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key.to_user_string() == asset:
            return {key: value.value for key, value in materialization.metadata.items()}
    raise AssertionError(f"no materialization of {asset}")


def test_lead_already_inscribed_at_kroton_is_never_posted(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=30, seed=21)
    pipeline.prepare(day)
    leads = _to_register(pipeline)
    inscribed = {cpf_digits(lead["cpf"]) for lead in leads[:3]}
    for number, cpf in enumerate(sorted(inscribed)):
        pipeline.sandbox.preseed(cpf, classificacao="Aluno" if number == 0 else "Classificado")

    result = pipeline.run("register", day)

    assert _metadata(result)["found_at_kroton"] >= len(inscribed)
    created = pipeline.inscriptions_by_cpf(origin="registered")
    assert not inscribed & set(created)
    assert len(pipeline.requests("register")) == len(created)
    statuses = {cpf_digits(s["cpf"]): s["status"] for s in pipeline.subscriptions()}
    assert sorted(statuses[cpf] for cpf in inscribed) == ["enrolled", "registered", "registered"]


def test_existing_inscription_moves_lead_to_krotons_status_with_its_full_answer(
    pipeline: Pipeline,
) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=20, seed=22)
    pipeline.prepare(day)
    lead = _to_register(pipeline)[0]
    inscription_id = pipeline.sandbox.preseed(lead["cpf"], classificacao="Aluno")

    pipeline.run("register", day)

    with pipeline.engine.connect() as conn:
        now = conn.execute(select(Subscription).where(Subscription.id == lead["id"])).one()
        follow_up = conn.execute(
            select(FollowUp).where(FollowUp.subscription_id == lead["id"])
        ).one()
    assert now.status == "enrolled" and now.kroton_subscription_id == inscription_id
    # Kroton's whole answer to the CPF look-up, as it came.
    kroton_answer = pipeline.sandbox.cpf_lookup(cpf_digits(lead["cpf"]))
    assert follow_up.source == json.loads(json.dumps(kroton_answer))
    history = [h for h in pipeline.history() if h["subscription_id"] == lead["id"]]
    assert [h["to_status"] for h in history][-1] == "enrolled"
    assert history[-1]["from_status"] == "to_register"


def test_lead_whose_gender_stays_ni_is_not_sent(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    frame = pipeline.export(day, size=20, seed=23, bad_share=0.0)
    frame.loc[0, "user_name"] = "Qwzxyv Pereira Lima"
    frame.loc[0, "gender"] = ""
    from kroton_pipeline.sandbox.export_generator import write_export

    write_export(frame, pipeline.landing, day)
    cpf = cpf_digits(frame.loc[0, "cpf"])

    assert pipeline.run("all_jobs", day).success

    lead = next(s for s in pipeline.subscriptions() if s["cpf"] == cpf)
    assert lead["gender"] == "NI"
    assert lead["status"] == "register_failed"
    assert lead["status_reason"] == "gender_unknown"
    assert not any(cpf in entry["path"] for entry in pipeline.sandbox.journal())
    assert cpf not in pipeline.inscriptions_by_cpf()


def test_pending_inscriptions_resolve(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=40, seed=24)
    assert pipeline.run("all_jobs", day).success
    pending = {s["id"] for s in pipeline.subscriptions() if s["status"] == "awaiting_register"}
    assert pending, "the sandbox answers ~40% of registrations NEW"

    # Kroton needs a few minutes; asked too soon (default: 10 min since the last answer), the
    # run spends no call on them.
    pipeline.sandbox.advance(15 * 60)
    pipeline.run("register", day)
    assert not pipeline.requests("inscricao_status")
    assert pipeline.run("register", day, run_config=poll_now()).success

    assert len(pipeline.requests("inscricao_status")) == len(pending)
    by_cpf = pipeline.inscriptions_by_cpf()
    for lead in pipeline.subscriptions():
        if lead["id"] in pending:
            (inscription,) = by_cpf[cpf_digits(lead["cpf"])]
            expected = "failed" if inscription["status"] == "ERROR" else "registered"
            assert lead["status"] == expected


def test_calls_per_new_lead_stay_within_lookup_post_and_token(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=60, seed=25)
    pipeline.prepare(day)
    new_leads = len(_to_register(pipeline))

    result = pipeline.run("register", day)

    kroton_calls = len(pipeline.kroton_requests())
    assert kroton_calls / new_leads <= 2.05
    metadata = _metadata(result)
    assert metadata["kroton/calls_per_lead"] == pytest.approx(kroton_calls / new_leads, abs=1e-3)
    assert len(pipeline.requests("token")) == 1


def test_dry_run_posts_nothing_changes_no_status_and_shows_masked_payloads(
    pipeline: Pipeline,
) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=30, seed=26)
    pipeline.prepare(day)
    before, history = pipeline.subscriptions(), pipeline.history()

    dry = {"ops": {"registrations": {"config": {"dry_run": True}}}}
    result = pipeline.run("register", day, run_config=dry)

    assert pipeline.requests("register") == []
    assert pipeline.subscriptions() == before
    assert pipeline.history() == history
    # Visibly a dry run: an observation labelled "would", no materialization, no check.
    assert result.get_asset_materialization_events() == []
    assert result.get_asset_check_evaluations() == []
    [observation] = result.get_asset_observation_events()
    metadata = {
        key: value.value
        for key, value in observation.asset_observation_data.asset_observation.metadata.items()
    }
    assert "Dry run" in metadata["dry_run"]
    shown = metadata["would_post_payloads"]
    assert shown["count"] == metadata["would_post"]
    assert metadata["would_post"] == (
        metadata["would_check"] - metadata["would_follow_existing_inscription"]
    )
    assert metadata["would_post"] > 0
    text = json.dumps(metadata, default=str)
    for lead in before:
        assert lead["cpf"] not in text and lead["email"] not in text
    # The switch belongs to that run only: the next run sends.
    assert pipeline.run("register", day).success
    assert len(pipeline.requests("register")) == shown["count"]


def test_unknown_outcome_is_reconciled_by_cpf_lookup_and_never_posted_twice(
    pipeline: Pipeline,
) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=20, seed=27)
    pipeline.prepare(day)
    # Kroton stores each inscription, then the gateway answers 500: the outcome is unknown.
    pipeline.sandbox.set_faults("register", error_after_store_rate=1.0)
    result = pipeline.run("register", day)
    unknown = _metadata(result)["unknown_outcomes"]
    assert unknown > 0
    marked = [s for s in _to_register(pipeline) if s["sent_at"] is not None]
    assert len(marked) == unknown
    posts = len(pipeline.requests("register"))

    pipeline.sandbox.clear_faults()
    # Kroton may still be processing them: their claims last until they expire. Later:
    let_claims_expire(pipeline.engine)
    again = pipeline.run("register", day)

    assert _metadata(again)["reconciled"] == unknown
    assert len(pipeline.requests("register")) == posts, "an unknown outcome was sent again"
    created = pipeline.inscriptions_by_cpf(origin="registered")
    assert all(len(items) == 1 for items in created.values())
    statuses = {s["id"]: s for s in pipeline.subscriptions()}
    for lead in marked:
        now = statuses[lead["id"]]
        assert now["status"] in AT_KROTON
        assert now["kroton_subscription_id"] == created[cpf_digits(lead["cpf"])][0]["inscricaoId"]


def test_success_rate_check_warns_below_threshold(pipeline: Pipeline) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=20, seed=28)
    pipeline.prepare(day)
    # Offers Kroton does not know: it refuses every registration (422).
    with pipeline.engine.begin() as conn:
        for option_id, offer in conn.execute(select(CourseOption.id, CourseOption.offer)).all():
            conn.execute(
                update(CourseOption)
                .where(CourseOption.id == option_id)
                .values(offer_id="999999999", offer={**offer, "id": "999999999"})
            )

    result = pipeline.run("register", day)

    assert result.success, "a low success rate warns; it does not fail the run"
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    evaluation = evaluations["registration_success_rate"]
    assert not evaluation.passed
    assert evaluation.severity.value == "WARN"
    assert evaluation.metadata["success_rate"].value < 0.9
    refused = [s for s in pipeline.subscriptions() if s["status"] == "register_failed"]
    assert any((s["status_reason"] or "").startswith("kroton_rejected") for s in refused)


def test_inscription_with_an_unknown_classification_is_followed_never_posted(
    pipeline: Pipeline,
) -> None:
    (day,) = past_days(1)
    pipeline.export(day, size=20, seed=31)
    pipeline.prepare(day)
    lead = _to_register(pipeline)[0]
    pipeline.sandbox.preseed(lead["cpf"], classificacao="Pre-matriculado")

    pipeline.run("register", day)
    pipeline.run("register", day)  # and again: still never sent

    created = pipeline.inscriptions_by_cpf(origin="registered")
    assert cpf_digits(lead["cpf"]) not in created
    with pipeline.engine.connect() as conn:
        now = conn.execute(select(Subscription).where(Subscription.id == lead["id"])).one()
    assert now.status == "to_register"  # the status table does not know it: kept
    assert now.kroton_classification == "Pre-matriculado"


def test_dry_run_step_never_reaches_the_client_even_one_that_would_send(
    pipeline: Pipeline,
) -> None:
    from kroton_pipeline.settings import BusinessRules
    from kroton_pipeline.steps.register_leads import register_leads

    (day,) = past_days(1)
    pipeline.export(day, size=20, seed=32)
    pipeline.prepare(day)
    client = pipeline.defs.resources["kroton"].get_client()
    assert client.dry_run is False
    result = register_leads(pipeline.engine, client, day, BusinessRules(), "dry", dry_run=True)
    assert result.dry_run_payloads
    assert pipeline.requests("register") == []


def test_a_ranged_run_gives_each_date_its_own_figures_and_check(pipeline: Pipeline) -> None:
    days = past_days(3)
    for number, day in enumerate(days):
        pipeline.export(day, size=8 + 4 * number, seed=60 + number)
    pipeline.prepare(*days)

    result = pipeline.run_range("register", days[0], days[-1])

    per_date = {
        event.partition: {
            key: value.value
            for key, value in event.step_materialization_data.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
    }
    assert sorted(per_date) == [day.isoformat() for day in days]
    subscriptions = pipeline.subscriptions()
    for day in days:
        leads = [s for s in subscriptions if s["import_date"] == day]
        figures = per_date[day.isoformat()]
        assert figures["leads"] == len(leads)
        assert figures["posted"] == sum(1 for s in leads if s["sent_at"] is not None)
        assert "kroton/kroton.requests_total" not in figures
        assert figures["kroton/requests"] > 0
    checks = {c.partition: c for c in result.get_asset_check_evaluations()}
    assert set(checks) == {day.isoformat() for day in days}
