"""checker-before-register and register.

For each ``to_register`` lead of an import date: look the CPF up at Kroton (an existing
inscription is followed, never registered again), otherwise *mark, send, record*: the lead's
``sent_at`` is committed before the POST, and the answer is recorded after it. A lead found
marked without a result (crash, timeout, connection lost after sending) is an unknown
outcome: the next run reconciles it with a CPF look-up and only sends again when Kroton has
no inscription for it. Pending inscriptions are then polled until they resolve.

Kroton's answers arrive as typed views (``domain.kroton_answers``); what they mean is decided
there, and ``db.follow_ups`` records them. Every lead is committed on its own, so a run
killed at any point resumes where it stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update

from kroton_pipeline.clients.errors import (
    AuthenticationFailed,
    KrotonError,
    KrotonRejected,
    OutcomeUnknown,
)
from kroton_pipeline.clients.kroton_api import KrotonApi
from kroton_pipeline.db.follow_ups import record_kroton_answer
from kroton_pipeline.db.models import CourseOption, Subscription
from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes, transition_where
from kroton_pipeline.domain.budget_plan import next_check_on
from kroton_pipeline.domain.enrolment_payload import PayloadError, build_enrolment_payload
from kroton_pipeline.domain.kroton_answers import (
    Enrolments,
    Inscription,
    InscriptionsAnswer,
    RegistrationAnswer,
    needs_enrolment_lookup,
    person_status,
)
from kroton_pipeline.domain.masking import scrub
from kroton_pipeline.domain.status_reasons import StatusReason, reason
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.settings import BusinessRules
from kroton_pipeline.timeutil import today_in_sao_paulo, utcnow

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
# Called with (point, subscription id) at each step of mark -> send -> record; see CHECKPOINTS.
Checkpoint = Callable[[str, int], None]
# "marked": sent_at committed, nothing sent yet; "answered": Kroton answered the POST, nothing
# recorded yet; "before_record_commit": the answer is written but not yet committed. The
# crash tests kill the process at each of them (kroton_pipeline_tests/reliability).
CHECKPOINTS = ("marked", "answered", "before_record_commit")
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
    poll_outcomes: dict[str, int] = field(default_factory=dict)
    dry_run_payloads: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass(frozen=True)
class KrotonVerdict:
    """What Kroton holds for one person: its answers and the status they mean."""

    answer: InscriptionsAnswer
    enrolments: Enrolments | None = None

    @property
    def holds_inscription(self) -> bool:
        return bool(self.answer.inscriptions) or bool(self.enrolments and self.enrolments.student)

    @property
    def status(self) -> Status | None:
        return person_status(self.answer, self.enrolments)


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
        kroton: KrotonApi,
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
        verdict: KrotonVerdict,
        why: str,
        checkpoint: str | None = None,
    ) -> bool:
        """Record what Kroton holds for ``lead``; False when Kroton holds nothing.

        True whenever Kroton holds an inscription, even one whose classification the status
        table does not know (the status is then kept, with a warning): such a lead is
        followed, never registered again.
        """
        if not verdict.holds_inscription:
            return False
        inscription = verdict.answer.best()
        status = verdict.status
        if self.result.dry_run:  # a dry run changes nothing
            self.result.count(str(status or lead["status"]))
            return True
        if verdict.enrolments is not None and verdict.enrolments.student:
            why = reason(StatusReason.STUDENT_AT_KROTON)
        now = utcnow()
        with self.engine.begin() as conn:
            recorded = record_kroton_answer(
                conn,
                lead,
                inscription or Inscription(),
                status,
                verdict.answer.raw,
                why,
                self.run_id,
                now,
                enrolment_source=verdict.enrolments.raw if verdict.enrolments else None,
            )
            conn.execute(
                update(Subscription)
                .where(Subscription.id == lead["id"])
                .values(next_check_on=next_check_on(lead.get("registered_at") or now, self.today))
            )
            if checkpoint:
                self.checkpoint(checkpoint, lead["id"])
        self.result.count(str(recorded or lead["status"]))
        return True

    def fail(self, lead: dict[str, Any], why: str) -> None:
        self.result.count(Status.REGISTER_FAILED.value)
        if self.result.dry_run:
            return
        with self.engine.begin() as conn:
            apply_status_changes(
                conn, [StatusChange(lead["id"], Status.REGISTER_FAILED, why)], self.run_id
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
    def lookup(self, lead: dict[str, Any]) -> KrotonVerdict:
        """What Kroton holds for the lead's CPF; the enrolment look-up only when it can
        change the verdict (``needs_enrolment_lookup``)."""
        answer = self.kroton.inscriptions_by_cpf(lead["cpf"])
        enrolments = (
            self.kroton.enrolments_by_cpf(lead["cpf"]) if needs_enrolment_lookup(answer) else None
        )
        return KrotonVerdict(answer, enrolments)

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
            self.fail(lead, reason(StatusReason.INVALID_PAYLOAD, exc.field))
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
            answer = self.kroton.register(payload)
        except OutcomeUnknown:
            self.result.unknown_outcomes += 1
            self.note_transient(lead, "outcome_unknown", clear_mark=False)
            return
        except KrotonRejected as exc:
            if exc.status_code == 409:  # Kroton already holds an inscription for this CPF
                self.follow(lead, self.lookup(lead), reason(StatusReason.ALREADY_INSCRIBED))
                return
            self.fail(lead, reason(StatusReason.KROTON_REJECTED, scrub(exc.message or "")))
            return
        self.checkpoint("answered", lead["id"])
        self.record_registration(lead, answer, options)

    def record_registration(
        self, lead: dict[str, Any], answer: RegistrationAnswer, options: list[dict[str, Any]]
    ) -> None:
        """Record an accepted registration: what the answer says, else pending."""
        inscription = replace(
            answer.inscription,
            system=answer.inscription.system or options[0].get("sistema"),
            dealer_id=answer.inscription.dealer_id or self.rules.affiliate_id,
        )
        now = utcnow()
        with self.engine.begin() as conn:
            recorded = record_kroton_answer(
                conn,
                lead,
                inscription,
                answer.status,
                answer.raw,
                reason(StatusReason.REGISTRATION_ACCEPTED, inscription.processing),
                self.run_id,
                now,
            )
            conn.execute(
                update(Subscription)
                .where(Subscription.id == lead["id"])
                .values(next_check_on=next_check_on(now, self.today))
            )
            self.checkpoint("before_record_commit", lead["id"])
        self.result.count(str(recorded or lead["status"]))

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
                verdict = self.lookup(lead)
            except AuthenticationFailed:
                raise
            except KrotonError as exc:
                self.result.transient_failures += 1
                self.note_transient(lead, f"reconcile: {type(exc).__name__}", clear_mark=False)
                continue
            self.result.reconciled += 1
            if not self.follow(lead, verdict, reason(StatusReason.RECONCILED)):
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
                verdict = (
                    self.lookup(lead)
                    if lead["id"] not in checked_ids
                    else KrotonVerdict(InscriptionsAnswer(()))
                )
                if self.follow(lead, verdict, reason(StatusReason.FOUND_AT_KROTON)):
                    self.result.found_at_kroton += 1
                elif not options.get(lead["id"]):
                    self.fail(lead, reason(StatusReason.NO_COURSE_OPTIONS))
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
        """Ask Kroton about the date's pending inscriptions (by id, or by CPF when the
        registration answer gave no id) and record what they became."""
        # A lead Kroton answered moments ago has not moved yet: asking again wastes budget.
        checked_before = utcnow() - poll_after
        leads = _leads(
            self.engine,
            Subscription.import_date == import_date,
            Subscription.status == Status.AWAITING_REGISTER.value,
            or_(Subscription.last_check.is_(None), Subscription.last_check <= checked_before),
        )
        for done, lead in enumerate(leads, start=1):
            try:
                if lead["kroton_subscription_id"]:
                    answer = self.kroton.inscription_status(
                        lead["kroton_subscription_id"], lead["kroton_system"]
                    )
                else:
                    answer = self.kroton.inscriptions_by_cpf(lead["cpf"])
            except AuthenticationFailed:
                raise
            except KrotonError as exc:
                self.result.transient_failures += 1
                self.note_transient(lead, f"poll: {type(exc).__name__}", clear_mark=False)
                continue
            self.result.polled += 1
            inscription = answer.best()
            if inscription is None:
                log.warning("subscription %s: Kroton holds no inscription yet", lead["id"])
                continue
            status = person_status(answer)
            why = (
                reason(StatusReason.PROCESSING_ERROR, scrub(inscription.message or ""))
                if status is Status.FAILED
                else reason(StatusReason.PROCESSING_SUCCEEDED)
            )
            with self.engine.begin() as conn:
                recorded = record_kroton_answer(
                    conn, lead, inscription, status, answer.raw, why, self.run_id, utcnow()
                )
            outcome = str(recorded or lead["status"])
            self.result.poll_outcomes[outcome] = self.result.poll_outcomes.get(outcome, 0) + 1
            if recorded is not None and recorded is not Status.AWAITING_REGISTER:
                self.result.resolved_pending += 1
            if progress:
                progress("poll", done, len(leads))


def register_leads(
    engine: Engine,
    kroton: KrotonApi,
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
                reason(StatusReason.GENDER_UNKNOWN),
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
