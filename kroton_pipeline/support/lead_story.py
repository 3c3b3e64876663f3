"""One person's story, read from the five tables that hold it.

A person is named by CPF or by a subscription id. Their story is every export row that named
them (``subscriptions`` rows they were imported as, ``lead_rejections`` rows refused), and
each attempt, one subscription each, ordered by id: its status changes (``status_history``),
its two course options and every Kroton answer (``follow_ups``, ``follow_up_snapshots``).
Reading only: nothing here writes, calls Kroton or logs personal data.

An erased person (LGPD) is found only as erased: by id when the subscription's CPF was
replaced (``"X…"``), by CPF through the keyed digest in ``erased_people``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from kroton_pipeline.db.models import (
    CourseOption,
    ErasedPerson,
    FollowUp,
    FollowUpSnapshot,
    LeadRejection,
    StatusHistory,
    Subscription,
)
from kroton_pipeline.domain.erased import ERASED_CPF_PREFIX
from kroton_pipeline.domain.erasure_digest import cpf_digest
from kroton_pipeline.domain.kroton_api import (
    AnswerShapeError,
    Inscription,
    parse_inscription,
    parse_inscriptions,
)
from kroton_pipeline.domain.statuses import StatusReason, reason_code
from kroton_pipeline.settings import erasure_keys


class LeadNotFound(LookupError):
    """Nothing holds that CPF or id (the message names the id, never a CPF)."""


@dataclass(frozen=True)
class ExportRow:
    """One exported row that named the person: imported as a subscription, or rejected."""

    import_date: date
    row_number: int | None
    subscription_id: int | None = None
    rejection: str | None = None  # the rejection code
    detail: str | None = None


@dataclass(frozen=True)
class StatusStep:
    """One ``status_history`` row."""

    changed_at: datetime
    from_status: str | None
    to_status: str
    reason: str | None
    run_id: str | None


@dataclass(frozen=True)
class CourseChoice:
    """One of the two offers chosen, read from the catalog document kept with it."""

    rank: int
    offer_id: str
    course: str | None
    campus: str | None
    shift: str | None
    registration_ends: str | None  # the offer's dtTerminoInscricao
    searched_at: datetime | None


@dataclass(frozen=True)
class KrotonAnswer:
    """What Kroton said: the latest full answer (``follow_ups``) or a day's snapshot."""

    kind: str  # "answer" or "snapshot"
    on: datetime | date
    inscription_id: str | None
    classification: str | None
    processing: str | None
    internal_status: str | None = None


@dataclass
class Attempt:
    """One subscription of the person, numbered from 1 in id order."""

    number: int
    lead: dict[str, Any]
    history: list[StatusStep] = field(default_factory=list)
    options: list[CourseChoice] = field(default_factory=list)
    answers: list[KrotonAnswer] = field(default_factory=list)

    @property
    def subscription_id(self) -> int:
        return int(self.lead["id"])


@dataclass
class LeadStory:
    """Everything known about one person, or only that they were erased."""

    attempts: list[Attempt] = field(default_factory=list)
    export_rows: list[ExportRow] = field(default_factory=list)
    cpf: str | None = None
    erased: bool = False
    erased_at: datetime | None = None
    erased_subscription_ids: list[int] = field(default_factory=list)

    @property
    def subscription_ids(self) -> list[int]:
        return [attempt.subscription_id for attempt in self.attempts]


def is_erased_lead(lead: dict[str, Any]) -> bool:
    """Whether a subscription row belongs to an erased person."""
    cpf = str(lead.get("cpf") or "")
    return cpf.startswith(ERASED_CPF_PREFIX) or (
        reason_code(lead.get("status_reason")) is StatusReason.PERSONAL_DATA_ERASED
    )


def erased_at(conn: Connection, cpf: str) -> datetime | None:
    """When the person with ``cpf`` was erased, or ``None`` if they never were (digests made
    with the current erasure key or an earlier one)."""
    digests = [cpf_digest(cpf, key) for key in erasure_keys()]
    row = conn.execute(
        select(ErasedPerson.erased_at).where(ErasedPerson.cpf_digest.in_(digests))
    ).first()
    return row[0] if row is not None else None


def find_story(
    conn: Connection, *, cpf: str | None = None, subscription_id: int | None = None
) -> LeadStory:
    """The story of the person with ``cpf`` (11 digits) or owning ``subscription_id``."""
    if subscription_id is not None:
        lead = conn.execute(select(Subscription).where(Subscription.id == subscription_id))
        row = lead.mappings().first()
        if row is None:
            raise LeadNotFound(f"no subscription {subscription_id}")
        if is_erased_lead(dict(row)):
            return LeadStory(erased=True, erased_subscription_ids=[subscription_id])
        cpf = str(row["cpf"])
    if cpf is None:
        raise ValueError("give a CPF or a subscription id")
    if cpf.startswith(ERASED_CPF_PREFIX):
        ids = conn.execute(select(Subscription.id).where(Subscription.cpf == cpf)).scalars()
        return LeadStory(erased=True, erased_subscription_ids=list(ids))
    when = erased_at(conn, cpf)
    if when is not None:
        return LeadStory(erased=True, erased_at=when)

    leads = conn.execute(
        select(Subscription).where(Subscription.cpf == cpf).order_by(Subscription.id)
    )
    attempts = [Attempt(n, dict(row)) for n, row in enumerate(leads.mappings(), start=1)]
    rejections = conn.execute(
        select(LeadRejection).where(LeadRejection.cpf == cpf).order_by(LeadRejection.id)
    ).mappings()
    export_rows = [
        ExportRow(r["import_date"], r["row_number"], rejection=r["reason"], detail=r["detail"])
        for r in rejections
    ]
    if not attempts and not export_rows:
        raise LeadNotFound("no subscription or exported row holds that CPF")
    export_rows += [
        ExportRow(a.lead["import_date"], a.lead["row_number"], subscription_id=a.subscription_id)
        for a in attempts
    ]
    export_rows.sort(key=lambda r: (r.import_date, r.row_number or 0))
    _fill_attempts(conn, attempts)
    return LeadStory(attempts=attempts, export_rows=export_rows, cpf=cpf)


def _rows(conn: Connection, model: type, ids: list[int], *order: Any) -> list[Any]:
    query = select(model).where(model.subscription_id.in_(ids)).order_by(*order)  # type: ignore[attr-defined]
    return list(conn.execute(query).mappings())


def _fill_attempts(conn: Connection, attempts: Sequence[Attempt]) -> None:
    by_id = {attempt.subscription_id: attempt for attempt in attempts}
    ids = list(by_id)
    if not ids:
        return
    for h in _rows(conn, StatusHistory, ids, StatusHistory.changed_at, StatusHistory.id):
        by_id[h["subscription_id"]].history.append(
            StatusStep(h["changed_at"], h["from_status"], h["to_status"], h["reason"], h["run_id"])
        )
    for o in _rows(conn, CourseOption, ids, CourseOption.rank):
        offer = o["offer"] or {}
        by_id[o["subscription_id"]].options.append(
            CourseChoice(
                o["rank"],
                o["offer_id"],
                offer.get("dsCurso"),
                offer.get("nmCampus") or offer.get("nmUnidade"),
                offer.get("dsTurno"),
                offer.get("dtTerminoInscricao"),
                o["searched_at"],
            )
        )
    for f in _rows(conn, FollowUp, ids, FollowUp.id):
        seen = read_answer(f["source"])
        by_id[f["subscription_id"]].answers.append(
            KrotonAnswer(
                "answer",
                f["updated_at"] or f["created_at"],
                f["kroton_subscription_id"] or seen.inscription_id,
                seen.classification,
                seen.processing,
            )
        )
    for s in _rows(conn, FollowUpSnapshot, ids, FollowUpSnapshot.snapshot_date):
        by_id[s["subscription_id"]].answers.append(
            KrotonAnswer(
                "snapshot",
                s["snapshot_date"],
                read_answer(s["source"]).inscription_id,
                s["classification"],
                s["processing_status"],
                s["internal_status"],
            )
        )


def read_answer(source: Any) -> Inscription:
    """The inscription a stored Kroton answer describes (CPF look-up, look-up by id or
    registration answer, either dialect); an empty one when it cannot be read."""
    try:
        if isinstance(source, list) or (isinstance(source, dict) and "inscricoes" in source):
            return parse_inscriptions(source).best() or Inscription()
        if isinstance(source, dict) and source:
            return parse_inscription(source)
    except AnswerShapeError:
        pass
    return Inscription()
