"""The retry pass every 3 hours: one run per import date with leads left behind, none for a
date a run already covers."""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg
from sqlalchemy import Engine

from kroton_pipeline.defs.common.resources import DatabaseResource
from kroton_pipeline.defs.registrations.schedules import retry_transient_failures
from kroton_pipeline.settings import SAO_PAULO
from kroton_pipeline_tests.db.factories import create_subscriptions

TICK = datetime(2026, 11, 29, 9, 0, tzinfo=SAO_PAULO)
DAY = TICK.date()


def _evaluate(instance: dg.DagsterInstance, url: str) -> list[dg.RunRequest] | dg.SkipReason:
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=TICK,
        resources={"database": DatabaseResource(url=url)},
    )
    return retry_transient_failures(context)


def test_retry_pass_asks_once_per_date_with_leads_left_behind(engine: Engine, db_url: str) -> None:
    with engine.begin() as conn:
        create_subscriptions(conn, 2, 1, status="course_failed", import_date=DAY - timedelta(1))
        create_subscriptions(conn, 1, 10, status="to_sync", import_date=DAY - timedelta(2))
        create_subscriptions(
            conn, 1, 20, status="awaiting_register", import_date=DAY - timedelta(3)
        )
        create_subscriptions(conn, 3, 30, status="registered", import_date=DAY - timedelta(4))
        create_subscriptions(conn, 1, 40, status="to_register", import_date=DAY - timedelta(200))
    with dg.instance_for_test() as instance:
        requests = _evaluate(instance, db_url)
    assert isinstance(requests, list)
    assert sorted(request.partition_key for request in requests) == [
        (DAY - timedelta(days)).isoformat() for days in (3, 2, 1)
    ]
    assert len({request.run_key for request in requests}) == 3


def test_no_retry_run_for_a_date_a_run_already_covers(engine: Engine, db_url: str) -> None:
    with engine.begin() as conn:
        create_subscriptions(conn, 1, 1, status="to_register", import_date=DAY - timedelta(1))
        create_subscriptions(conn, 1, 10, status="to_register", import_date=DAY - timedelta(2))
    busy = (DAY - timedelta(1)).isoformat()
    with dg.instance_for_test() as instance:
        instance.add_run(
            dg.DagsterRun(
                job_name="register",
                run_id="a1b2c3d4-0000-0000-0000-000000000001",
                status=dg.DagsterRunStatus.STARTED,
                tags={"dagster/partition": busy},
            )
        )
        requests = _evaluate(instance, db_url)
        assert [r.partition_key for r in requests] == [(DAY - timedelta(2)).isoformat()]

        instance.add_run(
            dg.DagsterRun(
                job_name="retry_pass",
                run_id="a1b2c3d4-0000-0000-0000-000000000002",
                status=dg.DagsterRunStatus.NOT_STARTED,
                tags={"dagster/partition": (DAY - timedelta(2)).isoformat()},
            )
        )
        assert isinstance(_evaluate(instance, db_url), dg.SkipReason)
