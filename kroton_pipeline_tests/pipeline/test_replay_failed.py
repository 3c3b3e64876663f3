"""register_failed is final, but may be retried on request once its cause is fixed."""

from __future__ import annotations

from datetime import date

import dagster as dg
from sqlalchemy import Engine, select, update

from kroton_pipeline.db.engine import insert_rows
from kroton_pipeline.db.models import CourseOption, StatusHistory, Subscription
from kroton_pipeline.defs.common.resources import DatabaseResource
from kroton_pipeline.defs.replays.jobs import replay_register_failed_job
from kroton_pipeline.domain.erased import erased_cpf
from kroton_pipeline.settings import utcnow
from kroton_pipeline_tests.db.factories import create_subscriptions

DAY = date(2026, 11, 20)


def _setup(engine: Engine) -> tuple[list[int], list[int]]:
    with engine.begin() as conn:
        unknown = create_subscriptions(
            conn, 2, 1, status="register_failed", status_reason="gender_unknown",
            gender="NI", import_date=DAY,
        )  # fmt: skip
        refused = create_subscriptions(
            conn, 2, 10, status="register_failed", status_reason="kroton_rejected: oferta",
            gender="F", import_date=DAY,
        )  # fmt: skip
        insert_rows(
            conn,
            CourseOption,
            [
                {"subscription_id": refused[0], "rank": rank, "offer_id": f"O{rank}",
                 "offer": {}, "query": {}, "searched_at": utcnow()}
                for rank in (1, 2)
            ],
        )  # fmt: skip
    return unknown, refused


def _replay(url: str, **config: object) -> dg.ExecuteInProcessResult:
    return replay_register_failed_job.execute_in_process(
        run_config={
            "ops": {"replay_failed_leads": {"config": {"import_date": str(DAY), **config}}}
        },
        resources={"database": DatabaseResource(url=url)},
        raise_on_error=False,
    )


def test_failed_leads_of_a_reason_go_back_to_to_sync_with_gender_looked_up_again(
    engine: Engine, db_url: str
) -> None:
    unknown, refused = _setup(engine)
    assert _replay(db_url, reason_prefix="gender_unknown").success
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(Subscription))}
        history = conn.execute(select(StatusHistory)).all()
    assert all(rows[i].status == "to_sync" and rows[i].gender is None for i in unknown)
    assert all(rows[i].status == "register_failed" for i in refused)
    assert {(h.subscription_id, h.from_status, h.to_status) for h in history} == {
        (i, "register_failed", "to_sync") for i in unknown
    }


def test_to_register_only_for_leads_that_kept_their_two_offers(engine: Engine, db_url: str) -> None:
    _unknown, refused = _setup(engine)
    assert _replay(db_url, reason_prefix="kroton_rejected", back_to="to_register").success
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(Subscription.id, Subscription.status)).all())
    assert statuses[refused[0]] == "to_register"
    assert statuses[refused[1]] == "register_failed"  # no options: needs to_sync instead


def test_replay_refuses_other_targets(engine: Engine, db_url: str) -> None:
    _setup(engine)
    result = _replay(db_url, back_to="registered")
    assert not result.success


def test_replay_never_brings_back_an_erased_person(engine: Engine, db_url: str) -> None:
    unknown, _refused = _setup(engine)
    with engine.begin() as conn:
        erased = create_subscriptions(
            conn, 1, 20, status="register_failed", status_reason="personal_data_erased",
            import_date=DAY,
        )[0]  # fmt: skip
        conn.execute(
            update(Subscription).where(Subscription.id == erased).values(cpf=erased_cpf(erased))
        )
    assert _replay(db_url).success  # no reason filter: every failed lead of the date
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(Subscription.id, Subscription.status)).all())
    assert statuses[erased] == "register_failed"
    assert all(statuses[i] == "to_sync" for i in unknown)
