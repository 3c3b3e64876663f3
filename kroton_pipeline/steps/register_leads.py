"""checker-before-register and register (SPEC §6 step 4).

For each ``to_register`` lead of an import date: look the CPF up at Kroton (an existing
inscription is followed, never registered again), otherwise *mark, send, record*: the lead's
``sent_at`` is committed before the POST, and the answer is recorded after it. A lead found
marked without a result (crash, timeout, connection lost after sending) is an unknown
outcome: the next run reconciles it with a CPF look-up and only sends again when Kroton has
no inscription for it. Pending inscriptions are then polled until they resolve.

Every lead is committed on its own, so a run killed at any point resumes where it stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update

from kroton_pipeline.clients.errors import (
    AuthenticationFailed,
    KrotonError,
    KrotonRejected,
    OutcomeUnknown,
)
from kroton_pipeline.db.models import CourseOption, Subscription
from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes, transition_where
from kroton_pipeline.domain.budget_plan import next_check_on
from kroton_pipeline.domain.enrolment_payload import PayloadError, build_enrolment_payload
from kroton_pipeline.domain.masking import scrub
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.settings import BusinessRules
from kroton_pipeline.steps.fill_genders import GENDER_UNKNOWN_REASON
from kroton_pipeline.steps.kroton_answers import (
    as_json,
    best_inscription,
    has_active_enrolment,
    is_open,
    view_of,
)
from kroton_pipeline.steps.kroton_records import record_view
from kroton_pipeline.timeutil import today_in_sao_paulo, utcnow

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
# Called with (point, subscription id) at each step of mark -> send -> record; see CHECKPOINTS.
Checkpoint = Callable[[str, int], None]
# "marked": sent_at committed, nothing sent yet; "answered": Kroton answered the POST, nothing
# recorded yet; "before_record_commit": the answer is written but not yet committed. The
# crash tests kill the process at each of them (kroton_pipeline_tests/reliability).
CHECKPOINTS = ("marked", "answered", "before_record_commit")
# status_reason prefix of a registration Kroton refused (the success-rate check reads it).
KROTON_REFUSAL = "kroton_rejected"
# Pending inscriptions are asked about again once this long has passed since the last answer.
DEFAULT_POLL_AFTER = timedelta(minutes=10)


@dataclass
class RegistrationResult:
    """What one registration pass did, for metadata, checks and Slack."""

    import_date: date
    dry_run: bool = False
    leads: int = 0
    reconciled: int = 0
    found_at_kroton: int = 0
    posted: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    unknown_outcomes: int = 0
    transient_failures: int = 0
    polled: int = 0
    resolved_pending: int = 0
    dry_run_payloads: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _options(engine: Engine, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    options: dict[int, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(CourseOption.subscription_id, CourseOption.offer_id, CourseOption.offer)
            .where(CourseOption.subscription_id.in_(ids))
            .order_by(CourseOption.subscription_id, CourseOption.rank)
        ).all()
    for sub_id, offer_id, offer in rows:
        options.setdefault(sub_id, []).append({"id": offer_id, **(offer or {})})
    return options


def _leads(engine: Engine, *conditions: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Subscription).where(*conditions).order_by(Subscription.id))
        return [dict(row) for row in rows.mappings()]


class _Registrar:
    def __init__(
        self,
        engine: Engine,
        kroton: Any,
        rules: BusinessRules,
        run_id: str | None,
        result: RegistrationResult,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.engine, self.kroton, self.rules, self.run_id = engine, kroton, rules, run_id
        self.result = result
        self.checkpoint: Checkpoint = checkpoint or (lambda _point, _sub_id: None)
        self.today = today_in_sao_paulo()

    # -- recording -----------------------------------------------------------------------
    def follow(
        self,
        lead: dict[str, Any],
        answer: dict[str, Any],
        reason: str,
        checkpoint: str | None = None,
    ) -> bool:
        """Record Kroton's inscription for ``lead``; False when Kroton holds none.

        True whenever Kroton holds an inscription, even one whose classification the
        status table does not know (the status is then kept, with a warning): such a lead
        is followed, never registered again.
        """
        view = best_inscription(answer)
        if view is None:
            return False
        if self.result.dry_run:  # a dry run changes nothing
            self.result.count(str(view.status or lead["status"]))
            return True
        now = utcnow()
        with self.engine.begin() as conn:
            status = record_view(conn, lead, view, answer, reason, self.run_id, now)
            conn.execute(
                update(Subscription)
                .where(Subscription.id == lead["id"])
                .values(next_check_on=next_check_on(lead.get("registered_at") or now, self.today))
            )
            if checkpoint:
                self.checkpoint(checkpoint, lead["id"])
        self.result.count(str(status or lead["status"]))
        return True

    def fail(self, lead: dict[str, Any], reason: str) -> None:
        self.result.count(Status.REGISTER_FAILED.value)
        if self.result.dry_run:
            return
        with self.engine.begin() as conn:
            apply_status_changes(
                conn, [StatusChange(lead["id"], Status.REGISTER_FAILED, reason)], self.run_id
            )

    def note_transient(self, lead: dict[str, Any], error: str, clear_mark: bool) -> None:
        values: dict[str, Any] = {"attempts": Subscription.attempts + 1, "last_error": error}
        if clear_mark:
            values["sent_at"] = None
        if self.result.dry_run:
            return
        with self.engine.begin() as conn:
            conn.execute(update(Subscription).where(Subscription.id == lead["id"]).values(**values))

    # -- look-ups --------------------------------------------------------------------------
    def lookup(self, lead: dict[str, Any]) -> dict[str, Any]:
        """Kroton's inscriptions for the lead's CPF (plus enrolments when that is still open)."""
        answer = as_json(self.kroton.inscriptions_by_cpf(lead["cpf"]))
        if is_open(best_inscription(answer)):
            enrolments = as_json(self.kroton.enrolments_by_cpf(lead["cpf"]))
            if has_active_enrolment(enrolments):
                answer = {**answer, "matriculas": enrolments.get("matriculas", [])}
                answer["inscricoes"] = [
                    {**item, "classificacao": {"descricao": "Aluno"}, "status": "SUCCESS"}
                    for item in answer.get("inscricoes", [])[:1]
                ]
        return answer

    # -- sending ---------------------------------------------------------------------------
    def register(self, lead: dict[str, Any], options: list[dict[str, Any]]) -> None:
        try:
            payload = build_enrolment_payload(
                lead,
                options[0]["id"],
                options[1]["id"] if len(options) > 1 else None,
                self.rules,
            )
        except PayloadError as exc:
            self.fail(lead, f"invalid_payload: {exc}")
            return
        if self.result.dry_run:  # never reaches the client, whatever its own switch says
            self.result.dry_run_payloads.append(payload)
            return
        with self.engine.begin() as conn:  # mark: committed before anything is sent
            conn.execute(
                update(Subscription).where(Subscription.id == lead["id"]).values(sent_at=utcnow())
            )
        self.checkpoint("marked", lead["id"])
        self.result.posted += 1
        try:
            sent = self.kroton.register(payload)
        except OutcomeUnknown:
            self.result.unknown_outcomes += 1
            self.note_transient(lead, "outcome_unknown", clear_mark=False)
            return
        except KrotonRejected as exc:
            if exc.status_code == 409:  # Kroton already holds an inscription for this CPF
                self.follow(lead, self.lookup(lead), "existing inscription at Kroton (409)")
                return
            self.fail(lead, f"{KROTON_REFUSAL}: {scrub(exc.message or '')}".strip())
            return
        self.checkpoint("answered", lead["id"])
        answer = sent.answer.source() if sent.answer is not None else {}
        self.record_answer(lead, answer, options)

    def record_answer(
        self, lead: dict[str, Any], answer: dict[str, Any], options: list[dict[str, Any]]
    ) -> None:
        if answer.get("success") is False or str(answer.get("status", "")).upper() == "ERROR":
            self.fail(lead, f"{KROTON_REFUSAL}: {scrub(str(answer.get('message') or 'ERROR'))}")
            return
        item = {**answer, "sistema": answer.get("sistema") or options[0].get("sistema")}
        item.setdefault("idAfiliado", self.rules.affiliate_id)
        self.follow(
            lead,
            {"inscricoes": [item]},
            f"registration answer {answer.get('status')}",
            checkpoint="before_record_commit",
        )

    # -- passes ----------------------------------------------------------------------------
    def reconcile_unknowns(self, import_date: date) -> list[dict[str, Any]]:
        """Settle leads marked as sent without a result; return those Kroton never got."""
        not_at_kroton: list[dict[str, Any]] = []
        leads = _leads(
            self.engine,
            Subscription.import_date == import_date,
            Subscription.status == Status.TO_REGISTER.value,
            Subscription.sent_at.is_not(None),
        )
        for lead in leads:
            try:
                answer = self.lookup(lead)
            except AuthenticationFailed:
                raise
            except KrotonError as exc:
                self.result.transient_failures += 1
                self.note_transient(lead, f"reconcile: {type(exc).__name__}", clear_mark=False)
                continue
            self.result.reconciled += 1
            if not self.follow(lead, answer, "reconciled unknown outcome by CPF look-up"):
                # Kroton never got it: it is safe to send again (this run, without a
                # second look-up).
                self.note_transient(lead, "reconciled: not at Kroton", clear_mark=True)
                not_at_kroton.append({**lead, "sent_at": None})
        return not_at_kroton

    def register_all(
        self,
        import_date: date,
        progress: Progress | None,
        checked: list[dict[str, Any]] | None = None,
    ) -> None:
        """Register every unsent ``to_register`` lead; ``checked`` ones skip the look-up."""
        checked = checked or []
        checked_ids = {lead["id"] for lead in checked}
        leads = checked + [
            lead
            for lead in _leads(
                self.engine,
                Subscription.import_date == import_date,
                Subscription.status == Status.TO_REGISTER.value,
                Subscription.sent_at.is_(None),
            )
            if lead["id"] not in checked_ids
        ]
        self.result.leads = len(leads)
        options = _options(self.engine, [lead["id"] for lead in leads])
        for done, lead in enumerate(leads, start=1):
            try:
                looked_up = lead["id"] not in checked_ids
                answer = self.lookup(lead) if looked_up else {"inscricoes": []}
                if self.follow(lead, answer, "existing inscription found before registering"):
                    self.result.found_at_kroton += 1
                elif not options.get(lead["id"]):
                    self.fail(lead, "no course options recorded")
                else:
                    self.register(lead, options[lead["id"]])
            except AuthenticationFailed:
                raise
            except KrotonError as exc:
                self.result.transient_failures += 1
                self.note_transient(lead, type(exc).__name__, clear_mark=True)
            if progress:
                progress("register", done, len(leads))

    def poll_pending(
        self, import_date: date, poll_after: timedelta, progress: Progress | None
    ) -> None:
        # A lead Kroton answered moments ago has not moved yet: asking again wastes budget.
        checked_before = utcnow() - poll_after
        leads = _leads(
            self.engine,
            Subscription.import_date == import_date,
            Subscription.status == Status.AWAITING_REGISTER.value,
            Subscription.kroton_subscription_id.is_not(None),
            or_(Subscription.last_check.is_(None), Subscription.last_check <= checked_before),
        )
        for done, lead in enumerate(leads, start=1):
            try:
                answer = as_json(
                    self.kroton.inscription_status(
                        lead["kroton_subscription_id"], lead["kroton_system"]
                    )
                )
            except AuthenticationFailed:
                raise
            except KrotonError as exc:
                self.result.transient_failures += 1
                self.note_transient(lead, f"poll: {type(exc).__name__}", clear_mark=False)
                continue
            self.result.polled += 1
            now = utcnow()
            with self.engine.begin() as conn:
                status = record_view(
                    conn,
                    lead,
                    view_of(answer),
                    answer,
                    "pending inscription processed",
                    self.run_id,
                    now,
                )
            if status is not None and status is not Status.AWAITING_REGISTER:
                self.result.resolved_pending += 1
            if progress:
                progress("poll", done, len(leads))


def register_leads(
    engine: Engine,
    kroton: Any,
    import_date: date,
    rules: BusinessRules,
    run_id: str | None,
    *,
    dry_run: bool = False,
    poll_after: timedelta = DEFAULT_POLL_AFTER,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> RegistrationResult:
    """Run the registration pass for ``import_date``'s leads; see the module docstring.

    ``checkpoint`` is called at each point of :data:`CHECKPOINTS` (for crash tests; the
    pipeline passes nothing).
    """
    started = time.monotonic()
    result = RegistrationResult(import_date, dry_run=dry_run)
    registrar = _Registrar(engine, kroton, rules, run_id, result, checkpoint)
    if not dry_run:
        with engine.begin() as conn:  # Kroton requires M/F: such leads are never sent
            transition_where(
                conn,
                and_(
                    Subscription.import_date == import_date,
                    Subscription.status == Status.TO_REGISTER.value,
                    Subscription.gender.not_in(("M", "F")),
                ),
                Status.REGISTER_FAILED,
                GENDER_UNKNOWN_REASON,
                run_id,
            )
        reconciled = registrar.reconcile_unknowns(import_date)
    else:
        reconciled = []
    registrar.register_all(import_date, progress, checked=reconciled)
    if not dry_run:
        registrar.poll_pending(import_date, poll_after, progress)
    result.seconds = time.monotonic() - started
    log.info(
        "register %s: %d leads, %d found at Kroton, %d posted, %d unknown, outcomes %s",
        import_date,
        result.leads,
        result.found_at_kroton,
        result.posted,
        result.unknown_outcomes,
        result.outcomes,
    )
    return result
