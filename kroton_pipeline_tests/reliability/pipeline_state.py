"""Shared pieces of the reliability suite: clients on the sandbox, prepared leads, invariants.

Everything runs for real: the sandbox over HTTP, the database (SQLite or PostgreSQL), the
product's steps. Nothing is mocked; faults come from the sandbox's fault injection.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update

from kroton_pipeline.clients.kroton import CatalogClient, KrotonClient
from kroton_pipeline.clients.transport import LocalRateBudget, RetryPolicy
from kroton_pipeline.db.models import StatusHistory, Subscription
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.landing import ExportFile
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.settings import (
    API_FORMATS,
    SANDBOX_CREDENTIALS,
    BusinessRules,
    today_in_sao_paulo,
    utcnow,
)
from kroton_pipeline.steps.fill_genders import fill_genders
from kroton_pipeline.steps.import_leads import import_export
from kroton_pipeline.steps.match_courses import match_courses

RULES = BusinessRules()
# Quick retries: the rules (what is retried, what is not) are the production ones, only the
# waits are shorter so that a fault test takes seconds.
FAST_RETRIES = RetryPolicy(max_attempts=4, backoff_base_seconds=0.02, backoff_max_seconds=0.2)
# Statuses a lead may hold once the registration step is done with it.
SETTLED = {
    Status.AWAITING_REGISTER.value,
    Status.REGISTERED.value,
    Status.REGISTER_FAILED.value,
    Status.ENROLLED.value,
    Status.DROPPED.value,
    Status.FAILED.value,
}


def kroton_client(
    kroton_url: str,
    *,
    dialect: str = "source",
    timeout: float = 5.0,
    policy: RetryPolicy = FAST_RETRIES,
) -> KrotonClient:
    """A Kroton client on the sandbox, in its dialect, with a generous local budget (the
    sandbox limits)."""
    return KrotonClient(
        base_url=kroton_url,
        api_format=API_FORMATS[dialect],  # type: ignore[index]
        client_id=SANDBOX_CREDENTIALS["API_KROTON_CLIENT_ID"],
        client_secret=SANDBOX_CREDENTIALS["API_KROTON_SECRET"],
        subscription_key=SANDBOX_CREDENTIALS["API_KROTON_SUBSCRIPTION"],
        budget=LocalRateBudget("kroton", 100_000, 1.0),
        timeout_seconds=timeout,
        policy=policy,
    )


def catalog_client(catalog_url: str) -> CatalogClient:
    return CatalogClient(
        base_url=catalog_url,
        api_key=SANDBOX_CREDENTIALS["CATALOG_KROTON_API_KEY"],
        budget=LocalRateBudget("catalog", 100_000, 1.0),
        policy=FAST_RETRIES,
    )


@dataclass(frozen=True)
class PreparedLeads:
    """An import date whose leads went through import, fixData and syncCourses."""

    import_date: date
    to_register: list[int]
    cpfs: dict[int, str]


def prepare_leads(
    engine: Engine, catalog_url: str, folder: Path, size: int, seed: int = 11
) -> PreparedLeads:
    """Import ``size`` generated leads (all valid, all with a gender) and match their courses.

    Leads whose course the catalog cannot offer twice end ``empty_course``; the rest wait in
    ``to_register`` for the registration step under test.
    """
    import_date = today_in_sao_paulo()
    frame = generate_export(import_date, size, seed=seed, bad_share=0.0, distinct_searches=8)
    frame["gender"] = ["F" if n % 2 else "M" for n in range(len(frame))]
    path = write_export(frame, folder, import_date)
    export = ExportFile(str(path), path.name, import_date, "csv")
    import_export(engine, export, RULES, "prepare")
    fill_genders(engine, import_date, RULES.gender_min_ratio, "prepare", utcnow())
    catalog = catalog_client(catalog_url)
    try:
        match_courses(engine, catalog, import_date, import_date, "prepare")
    finally:
        catalog.close()
    with engine.connect() as conn:
        rows = conn.execute(
            select(Subscription.id, Subscription.cpf).where(
                Subscription.import_date == import_date,
                Subscription.status == Status.TO_REGISTER.value,
            )
        ).all()
    assert rows, "no lead reached to_register: the generated export did not match the catalog"
    return PreparedLeads(import_date, [row.id for row in rows], {row.id: row.cpf for row in rows})


def let_claims_expire(engine: Engine) -> None:
    """Time passes: every claim left by an earlier run (a dead one, or one that kept the
    claim of an unknown outcome) is past its expiry."""
    with engine.begin() as conn:
        conn.execute(
            update(Subscription)
            .where(Subscription.claimed_by.is_not(None))
            .values(claim_expires_at=datetime(2000, 1, 1))
        )


def leads_by_id(engine: Engine, ids: list[int]) -> dict[int, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Subscription).where(Subscription.id.in_(ids))).mappings()
        return {row["id"]: dict(row) for row in rows}


def registrations_per_cpf(sandbox: Any) -> Counter[str]:
    """How many inscriptions the sandbox created from a registration POST, per CPF."""
    return Counter(ins["cpf"] for ins in sandbox.inscriptions() if ins["origin"] == "registered")


def register_posts(sandbox: Any) -> list[dict[str, Any]]:
    """The registration POSTs the sandbox received (journal)."""
    return [e for e in sandbox.journal() if e["endpoint"] == "register"]


def assert_history_agrees(engine: Engine) -> None:
    """For every subscription, the last status_history row's to_status is its status."""
    last = (
        select(StatusHistory.subscription_id, func.max(StatusHistory.id).label("last_id"))
        .group_by(StatusHistory.subscription_id)
        .subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(Subscription.id, Subscription.status, StatusHistory.to_status)
            .join(last, last.c.subscription_id == Subscription.id, isouter=True)
            .join(StatusHistory, StatusHistory.id == last.c.last_id, isouter=True)
        ).all()
    disagreeing = [(sid, status, to) for sid, status, to in rows if status != to]
    assert not disagreeing, f"status and status_history disagree: {disagreeing[:5]}"


def assert_registered_exactly_once(engine: Engine, sandbox: Any, leads: PreparedLeads) -> None:
    """Every prepared lead settled, none stuck, none lost, none registered twice.

    - each lead's status is one the registration step ends in (not to_register);
    - no lead is left marked (``sent_at``) without a Kroton id;
    - a lead Kroton accepted holds the id of the one inscription the sandbox created for it;
    - the sandbox created at most one inscription per CPF, and never answered 409 to a
      POST (a 409 would mean a blind re-send that Kroton's own guard happened to stop).
    """
    rows = leads_by_id(engine, leads.to_register)
    assert len(rows) == len(leads.to_register), "a lead disappeared"
    per_cpf = registrations_per_cpf(sandbox)
    held: dict[str, set[str]] = {}
    for ins in sandbox.inscriptions():
        held.setdefault(ins["cpf"], set()).add(ins["inscricaoId"])
    for sub_id, row in rows.items():
        assert row["status"] in SETTLED, f"subscription {sub_id} stuck in {row['status']}"
        assert per_cpf[row["cpf"]] <= 1, f"subscription {sub_id} registered twice"
        if row["status"] != Status.REGISTER_FAILED.value:
            assert row["kroton_subscription_id"] in held.get(row["cpf"], set()), sub_id
        if row["status"] == Status.REGISTER_FAILED.value:
            assert per_cpf[row["cpf"]] == 0, f"subscription {sub_id} failed but registered"
    conflicts = [e for e in register_posts(sandbox) if e["status"] == 409]
    assert not conflicts, f"{len(conflicts)} registration POST(s) re-sent for a registered CPF"
    assert_history_agrees(engine)
