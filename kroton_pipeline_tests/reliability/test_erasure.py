"""LGPD erasure: one person's personal data anonymised everywhere, the funnel intact.

The person goes through the real pipeline first (import, courses, registration at the
sandbox, a daily follow-up, and a second export that repeats their CPF, so that a rejected
row holds it too); then the ``erase_personal_data`` job runs through Dagster.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import Engine, func, select

from kroton_pipeline.db.models import Base, LeadRejection, StatusHistory, Subscription
from kroton_pipeline.defs.common.resources import DatabaseResource
from kroton_pipeline.defs.privacy.jobs import erase_personal_data
from kroton_pipeline.domain.erased import erased_cpf
from kroton_pipeline.domain.leads import format_cpf
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.landing import ExportFile
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.settings import erasure_keys
from kroton_pipeline.steps.check_follow_ups import check_follow_ups, due_leads
from kroton_pipeline.steps.erasure import PersonNotFound, erase_person, find_person
from kroton_pipeline.steps.import_leads import import_export
from kroton_pipeline.steps.register_leads import register_leads
from kroton_pipeline_tests.reliability.pipeline_state import (
    RULES,
    PreparedLeads,
    assert_history_agrees,
    kroton_client,
    leads_by_id,
)

pytestmark = pytest.mark.integration


def funnel(engine: Engine) -> dict[tuple[str, str], int]:
    """Subscriptions per (import date, status) plus rejections per (import date, reason)."""
    with engine.connect() as conn:
        subs = conn.execute(
            select(Subscription.import_date, Subscription.status, func.count()).group_by(
                Subscription.import_date, Subscription.status
            )
        ).all()
        rejected = conn.execute(
            select(LeadRejection.import_date, LeadRejection.reason, func.count()).group_by(
                LeadRejection.import_date, LeadRejection.reason
            )
        ).all()
    counts = {(str(day), status): n for day, status, n in subs}
    counts |= {(str(day), f"rejected:{reason}"): n for day, reason, n in rejected}
    return counts


def database_text(engine: Engine) -> str:
    """Every row of every table, as text."""
    parts = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                parts.append(json.dumps(dict(row), default=str, ensure_ascii=False))
    return "\n".join(parts)


def rows_of(engine: Engine, sub_id: int, rejection_ids: list[int]) -> str:
    """Every row that belongs to one person, as text."""
    parts = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "subscriptions":
                query = select(table).where(table.c.id == sub_id)
            elif "subscription_id" in table.c:
                query = select(table).where(table.c.subscription_id == sub_id)
            elif table.name == "lead_rejections":
                query = select(table).where(table.c.id.in_(rejection_ids))
            else:
                continue
            for row in conn.execute(query).mappings():
                parts.append(json.dumps(dict(row), default=str, ensure_ascii=False))
    return "\n".join(parts)


def personal_values(person: dict[str, Any]) -> list[str]:
    return [
        person["cpf"],
        format_cpf(person["cpf"]),
        person["email"],
        f"{person['area_code']}{person['phone_number']}",
        person["phone_number"],
    ]


@pytest.fixture
def history(
    db_engine: Engine, sandbox: SandboxServer, leads: PreparedLeads, tmp_path: Path
) -> PreparedLeads:
    """Register the leads, follow them up once, and import a second day repeating them."""
    client = kroton_client(sandbox.kroton_url, dialect=sandbox.dialect)
    try:
        register_leads(
            db_engine, client, leads.import_date, RULES, "register", poll_after=timedelta(0)
        )
        sandbox.advance(3 * 24 * 3600)
        check_follow_ups(db_engine, client, leads.import_date, "checker", ignore_schedule=True)
    finally:
        client.close()
    next_day = leads.import_date + timedelta(days=1)
    frame = generate_export(leads.import_date, 16, seed=11, bad_share=0.0, distinct_searches=8)
    path = write_export(frame, tmp_path / "landing2", next_day)
    import_export(db_engine, ExportFile(str(path), path.name, next_day, "csv"), RULES, "day2")
    return leads


def erase_through_dagster(db_url: str, **config: int) -> dg.ExecuteInProcessResult:
    return erase_personal_data.execute_in_process(
        run_config={"ops": {"erase_person_op": {"config": config}}},
        resources={"database": DatabaseResource(url=db_url, migrate=False)},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_erasure_anonymises_one_person_everywhere_and_keeps_the_funnel(
    db_url: str, db_engine: Engine, sandbox: SandboxServer, history: PreparedLeads
) -> None:
    rows = leads_by_id(db_engine, history.to_register)
    sub_id, person = next(
        (i, row) for i, row in rows.items() if row["status"] == Status.REGISTERED.value
    )
    found_sub, rejection_ids = find_person(db_engine, format_cpf(person["cpf"]))
    assert found_sub == sub_id and rejection_ids, "the second export should repeat the CPF"
    before = funnel(db_engine)
    assert any(value in database_text(db_engine) for value in personal_values(person))

    result = erase_through_dagster(db_url, subscription_id=sub_id)

    assert result.success
    after = leads_by_id(db_engine, [sub_id])[sub_id]
    assert after["cpf"] == erased_cpf(sub_id) and len(after["cpf"]) == 11
    assert after["user_name"] == "ERASED"
    for column in ("birthday", "email", "area_code", "phone_number", "cep", "street", "city"):
        assert after[column] is None, column
    assert after["status"] == person["status"]
    assert after["kroton_subscription_id"] == person["kroton_subscription_id"]
    assert funnel(db_engine) == before, "statuses and counts must not move"
    everything = database_text(db_engine)
    for value in personal_values(person):
        assert value not in everything
    # Values other people may share (a birth date, a street) are looked for in this person's
    # rows only.
    own_rows = rows_of(db_engine, sub_id, rejection_ids)
    for value in (person["birthday"].isoformat(), person["user_name"], person["street"]):
        assert value not in own_rows
    with db_engine.connect() as conn:
        rejected = conn.execute(
            select(LeadRejection).where(LeadRejection.id.in_(rejection_ids))
        ).mappings()
        for row in rejected:
            assert row["cpf"] is None and row["raw"] is None
            assert row["reason"] == "cpf_already_imported"
    assert_history_agrees(db_engine)

    # The erasure is recorded by its run: the id and the time, never the CPF.
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = output.event_specific_data.metadata
    assert metadata["subscription_id"].value == sub_id
    assert "erased_at" in metadata
    run = result.dagster_run
    stored = (
        json.dumps(run.run_config)
        + "\n".join(str(e.message) for e in result.all_events)
        + json.dumps({k: str(v.value) for k, v in metadata.items()})
    )
    for value in personal_values(person):
        assert value not in stored

    # The erased lead is never looked up by CPF again.
    due = due_leads(db_engine, history.import_date, ignore_schedule=True)
    assert sub_id not in {lead["id"] for lead in due}


def test_erasing_a_lead_not_yet_sent_closes_it(db_engine: Engine, leads: PreparedLeads) -> None:
    sub_id = leads.to_register[0]
    cpf = leads.cpfs[sub_id]
    before = Counter(row["status"] for row in leads_by_id(db_engine, leads.to_register).values())

    result = erase_person(db_engine, cpf, "erasure", keys=erasure_keys())

    assert result.closed_status == Status.TO_REGISTER.value
    after = leads_by_id(db_engine, [sub_id])[sub_id]
    assert after["status"] == Status.REGISTER_FAILED.value
    assert after["status_reason"] == "personal_data_erased"
    rows = leads_by_id(db_engine, leads.to_register).values()
    assert sum(Counter(row["status"] for row in rows).values()) == sum(before.values())
    with db_engine.connect() as conn:
        last = conn.execute(
            select(StatusHistory.to_status, StatusHistory.reason)
            .where(StatusHistory.subscription_id == sub_id)
            .order_by(StatusHistory.id.desc())
        ).first()
    assert tuple(last) == ("register_failed", "personal_data_erased")
    assert_history_agrees(db_engine)
    # Erasing again finds nothing under that CPF any more, and says so without naming it.
    with pytest.raises(PersonNotFound) as raised:
        erase_person(db_engine, cpf, "again", keys=erasure_keys())
    assert cpf not in str(raised.value)


def test_erasure_job_needs_exactly_one_id(db_url: str, db_engine: Engine) -> None:
    assert not erase_through_dagster(db_url).success
    assert not erase_through_dagster(db_url, subscription_id=1, rejection_id=1).success
    missing = erase_through_dagster(db_url, subscription_id=999_999)
    assert not missing.success


def test_an_erased_person_in_a_later_export_is_refused_and_nothing_of_them_kept(
    db_engine: Engine, history: PreparedLeads, tmp_path: Path
) -> None:
    rows = leads_by_id(db_engine, history.to_register)
    person = next(iter(rows.values()))
    erase_person(db_engine, person["cpf"], "erasure", keys=erasure_keys())

    # Databricks exports the same person again on a later day.
    later = history.import_date + timedelta(days=2)
    frame = generate_export(later, 6, seed=12, bad_share=0.0, distinct_searches=3)
    frame.loc[0, "cpf"] = format_cpf(person["cpf"])
    path = write_export(frame, tmp_path / "landing3", later)
    result = import_export(db_engine, ExportFile(str(path), path.name, later, "csv"), RULES, "d3")

    assert result.rejections_by_reason.get("erased_on_request") == 1
    assert result.balanced
    with db_engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).where(Subscription.cpf == person["cpf"])).scalar_one()
            == 0
        )
        refused = (
            conn.execute(
                select(LeadRejection).where(
                    LeadRejection.import_date == later, LeadRejection.reason == "erased_on_request"
                )
            )
            .mappings()
            .one()
        )
    assert refused["cpf"] is None and refused["raw"] is None
    for value in personal_values(person):
        assert value not in database_text(db_engine)


def test_an_erased_person_in_bad_rows_leaves_no_personal_data_in_rejections(
    db_engine: Engine, history: PreparedLeads, tmp_path: Path
) -> None:
    rows = leads_by_id(db_engine, history.to_register)
    person = next(iter(rows.values()))
    erase_person(db_engine, person["cpf"], "erasure", keys=erasure_keys())

    # Exported again with a bad phone, and twice more in the same file.
    later = history.import_date + timedelta(days=3)
    frame = generate_export(later, 6, seed=13, bad_share=0.0, distinct_searches=3)
    for row in (0, 1, 2):
        frame.loc[row, "cpf"] = format_cpf(person["cpf"])
        frame.loc[row, "user_name"] = person_name = "Pessoa Apagada da Silva"
    frame.loc[0, "phone_number"] = "12"
    path = write_export(frame, tmp_path / "landing4", later)
    result = import_export(db_engine, ExportFile(str(path), path.name, later, "csv"), RULES, "d4")

    assert result.balanced
    with db_engine.connect() as conn:
        kept = (
            conn.execute(select(LeadRejection).where(LeadRejection.import_date == later))
            .mappings()
            .all()
        )
    mine = [row for row in kept if row["row_number"] in (1, 2, 3)]
    assert len(mine) == 3
    assert all(row["cpf"] is None and row["raw"] is None for row in mine)
    stored = json.dumps([dict(row) for row in kept], default=str)
    assert person["cpf"] not in stored and person_name not in stored
