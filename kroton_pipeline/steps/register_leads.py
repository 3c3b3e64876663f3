"""Registering leads at Kroton and following pending inscriptions until Kroton has processed them.

Sections, in the order of the code:

**register_leads**: checker-before-register and register.

For each ``to_register`` lead of an import date, under the lead's claim (``db.status_changes``):
look the CPF up at Kroton (an existing inscription is followed, never registered again),
otherwise *mark, send, record*: the lead's ``sent_at`` is committed before the POST (a
compare-and-set on the claim), the claim is renewed just before the POST leaves, and the
answer is recorded after it, under the claim. A lead found marked without a result (crash,
timeout, connection lost after sending) is an unknown outcome: its claim is left to expire,
and the run that next takes it reconciles it with a CPF look-up and only sends again when
Kroton has no inscription for it. Pending inscriptions are then polled
(``steps.register_leads``).

Two runs of the same date (two launches, two deployments) each claim leads one by one, so
each lead is sent once. Kroton's answers arrive as typed views (``domain.kroton_api``);
``db.status_changes`` records them. Every lead is committed on its own, so a run killed at any
point resumes where it stopped once its claims expire.

**poll_pending**: Polling pending inscriptions (``awaiting_register``) until Kroton has
processed them.

Part of the registration pass. Each pending lead is claimed (``db.status_changes``), asked about by
its inscription id (by CPF when the registration answer gave no id, never for an erased
person), and the answer is recorded under the claim: ``registered`` or ``failed`` (with
Kroton's message), or still pending.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, and_, or_, select, update

from kroton_pipeline.clients.kroton import InvalidCpf, KrotonApi
from kroton_pipeline.clients.transport import (
    AuthenticationFailed,
    KrotonError,
    KrotonRejected,
    OutcomeUnknown,
)
from kroton_pipeline.db.models import CourseOption, Subscription
from kroton_pipeline.db.status_changes import (
    DEFAULT_TTL_SECONDS,
    ClaimLost,
    LeadClaims,
    StatusChange,
    apply_status_changes,
    db_now,
    new_owner,
    not_erased,
    record_kroton_answer,
    transition_where,
)
from kroton_pipeline.domain.erased import is_erased
from kroton_pipeline.domain.kroton_api import (
    Enrolments,
    Inscription,
    InscriptionsAnswer,
    PayloadError,
    Precheck,
    RegistrationAnswer,
    build_enrolment_payload,
    intake_end,
    needs_enrolment_check,
    next_look,
    person_status,
    precheck,
    precheck_rules,
    tracking_rules,
)
from kroton_pipeline.domain.leads import scrub
from kroton_pipeline.domain.statuses import Status, StatusReason, reason
from kroton_pipeline.settings import BusinessRules, today_in_sao_paulo, utcnow

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


# An inscription Kroton dates up to this long before our mark may still be ours (clocks).
RECONCILE_MARGIN = timedelta(minutes=5)


S = Subscription.__table__


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
    claimed_elsewhere: int = 0  # another run held the lead: it does the work
    claims_lost: int = 0  # the claim expired mid-way: the lead is left to its new holder
    polled: int = 0
    resolved_pending: int = 0
    poll_outcomes: dict[str, int] = field(default_factory=dict)
    dry_run_payloads: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass(frozen=True)
class Seen:
    """What Kroton's look-ups said about one person."""

    answer: InscriptionsAnswer
    enrolments: Enrolments | None = None


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


def _ids(engine: Engine, *conditions: Any) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(S.c.id).where(*conditions).order_by(S.c.id)).scalars())


class _Registrar:
    def __init__(
        self,
        engine: Engine,
        kroton: KrotonApi,
        rules: BusinessRules,
        run_id: str | None,
        result: RegistrationResult,
        claims: LeadClaims | None,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.engine, self.kroton, self.rules, self.run_id = engine, kroton, rules, run_id
        self.result = result
        self.claims = claims  # None: a dry run, which writes nothing and claims nothing
        self.checkpoint: Checkpoint = checkpoint or (lambda _point, _sub_id: None)
        self.today = today_in_sao_paulo()
        self.tracking = tracking_rules(rules)
        self.precheck_rules = precheck_rules(rules)
        self.keep_claim = False

    # -- the claim ----------------------------------------------------------------------------
    @contextmanager
    def claimed(self, sub_id: int) -> Iterator[dict[str, Any] | None]:
        """The lead, re-read under its claim (``None``: another run has it, or it is no
        longer ``to_register``). An unknown outcome keeps the claim until it expires."""
        conditions = (S.c.status == Status.TO_REGISTER.value, not_erased())
        if self.claims is None:
            with self.engine.connect() as conn:
                row = conn.execute(select(Subscription).where(S.c.id == sub_id, *conditions))
                yield next((dict(r) for r in row.mappings()), None)
            return
        lead = self.claims.take(sub_id, *conditions)
        if lead is None:
            self.result.claimed_elsewhere += 1
        self.keep_claim = False
        try:
            yield lead
        finally:
            if lead is not None and not self.keep_claim:
                self.claims.release(sub_id)

    @contextmanager
    def writing(self, sub_id: int) -> Iterator[Connection]:
        """A transaction that commits only while the claim is still this run's."""
        with self.engine.begin() as conn:
            if self.claims is not None:
                self.claims.require(sub_id, conn)
            yield conn

    # -- recording -------------------------------------------------------------------------
    def follow(self, lead: dict[str, Any], seen: Seen, decision: Precheck, why: str) -> None:
        """Record the inscription Kroton holds for ``lead`` (the decision's) and follow it."""
        if self.result.dry_run:  # a dry run changes nothing
            self.result.count(str(decision.status or lead["status"]))
            return
        inscription = decision.inscription or Inscription()
        now = utcnow()
        with self.writing(lead["id"]) as conn:
            recorded = record_kroton_answer(
                conn,
                lead,
                inscription,
                decision.status,
                seen.answer.raw,
                why,
                self.run_id,
                now,
                enrolment_source=seen.enrolments.raw if seen.enrolments else None,
            )
            self.schedule(conn, lead, inscription, now)
        self.result.count(str(recorded or lead["status"]))

    def schedule(
        self, conn: Connection, lead: dict[str, Any], inscription: Inscription, now: datetime
    ) -> None:
        """The lead's intake end (Kroton's offer, else the chosen one) and its next look."""
        intake_ends_on = inscription.intake_ends_on or lead.get("intake_ends_on")
        conn.execute(
            update(S)
            .where(S.c.id == lead["id"])
            .values(
                intake_ends_on=intake_ends_on,
                next_check_on=next_look(
                    self.today,
                    lead.get("registered_at") or now,
                    inscription.classification,
                    intake_ends_on,
                    self.tracking,
                ),
            )
        )

    def fail(self, lead: dict[str, Any], why: str) -> None:
        self.result.count(Status.REGISTER_FAILED.value)
        if self.result.dry_run:
            return
        with self.writing(lead["id"]) as conn:
            apply_status_changes(
                conn, [StatusChange(lead["id"], Status.REGISTER_FAILED, why)], self.run_id
            )

    def note_transient(self, lead: dict[str, Any], error: str, clear_mark: bool) -> None:
        if self.result.dry_run or self.claims is None:
            return
        cleared: dict[str, Any] = {"sent_at": None} if clear_mark else {}
        self.claims.note_failed_attempt(lead["id"], error, **cleared)

    # -- look-ups --------------------------------------------------------------------------
    def lookup(self, lead: dict[str, Any]) -> Seen:
        """What Kroton holds for the lead's CPF; the enrolment look-up only when it can
        change the decision (``domain.kroton_api.needs_enrolment_check``)."""
        answer = self.kroton.inscriptions_by_cpf(lead["cpf"])
        enrolments = (
            self.kroton.enrolments_by_cpf(lead["cpf"])
            if needs_enrolment_check(answer, self.today, self.precheck_rules)
            else None
        )
        return Seen(answer, enrolments)

    # -- one lead ------------------------------------------------------------------------------
    def handle(self, lead: dict[str, Any], options: list[dict[str, Any]] | None) -> None:
        """Pre-check (or reconcile a mark left without a result), then register."""
        lead = {**lead, "intake_ends_on": intake_end(options)}
        seen = self.lookup(lead)
        decision = precheck(seen.answer, seen.enrolments, self.today, self.precheck_rules)
        if lead["sent_at"] is not None:  # marked, no result: did our POST land?
            self.result.reconciled += 1
            ours = seen.answer.made_since(lead["sent_at"] - RECONCILE_MARGIN)
            if ours.inscriptions:
                decision = Precheck(True, "our registration", ours.best(), ours.best().status)
            if decision.follow:
                self.follow(lead, seen, decision, reason(StatusReason.RECONCILED, decision.why))
                return
            # Kroton never got it: safe to send again, now, without a second look-up.
            self.note_transient(lead, "reconciled: not at Kroton", clear_mark=True)
            lead = {**lead, "sent_at": None}
        elif decision.follow:
            code = (
                StatusReason.STUDENT_AT_KROTON
                if decision.status is Status.ENROLLED
                else StatusReason.FOUND_AT_KROTON
            )
            self.follow(lead, seen, decision, reason(code, decision.why))
            self.result.found_at_kroton += 1
            return
        if not options:
            self.fail(lead, reason(StatusReason.NO_COURSE_OPTIONS))
            return
        why = decision.why
        if str(lead.get("gender") or "").upper() not in ("M", "F"):
            why = "; ".join(
                p
                for p in (why, f"gender unknown, sent as {self.rules.gender_unknown_send_as}")
                if p
            )
        self.register(lead, options, why)

    def register(self, lead: dict[str, Any], options: list[dict[str, Any]], why: str = "") -> None:
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
        self.mark(lead["id"])
        self.checkpoint("marked", lead["id"])
        assert self.claims is not None
        claims = self.claims

        def still_ours() -> None:  # the last check, after any wait for the budget
            claims.require(lead["id"])
            self.result.posted += 1

        try:
            answer = self.kroton.register(payload, before_send=still_ours)
        except OutcomeUnknown:
            self.result.unknown_outcomes += 1
            self.note_transient(lead, "outcome_unknown", clear_mark=False)
            # Kroton may still be processing it: the claim stays until it expires, so no run
            # reconciles (and possibly re-sends) it before then.
            self.keep_claim = True
            return
        except KrotonRejected as exc:
            if exc.status_code == 409:  # Kroton already holds an inscription for this CPF
                seen = self.lookup(lead)
                held = seen.answer.best()
                decision = Precheck(True, "", held, held.status if held else None)
                self.follow(lead, seen, decision, reason(StatusReason.ALREADY_INSCRIBED))
                return
            self.fail(lead, reason(StatusReason.KROTON_REJECTED, scrub(exc.message or "")))
            return
        except AuthenticationFailed:
            raise
        except KrotonError as exc:  # never delivered (refused connection, 429s): unmark it
            self.result.transient_failures += 1
            self.note_transient(lead, type(exc).__name__, clear_mark=True)
            return
        self.checkpoint("answered", lead["id"])
        self.record_registration(lead, answer, options, why)

    def mark(self, sub_id: int) -> None:
        """Commit ``sent_at`` before anything is sent — only while the claim is ours."""
        with self.engine.begin() as conn:
            assert self.claims is not None
            marked = conn.execute(
                update(S)
                .where(
                    S.c.id == sub_id,
                    self.claims.held(conn),
                    S.c.status == Status.TO_REGISTER.value,
                    S.c.sent_at.is_(None),
                )
                .values(sent_at=utcnow())
            ).rowcount
        if marked != 1:
            raise ClaimLost(f"subscription {sub_id}: claim lost before the mark")

    def record_registration(
        self,
        lead: dict[str, Any],
        answer: RegistrationAnswer,
        options: list[dict[str, Any]],
        why: str = "",
    ) -> None:
        """Record an accepted registration: what the answer says, else pending."""
        inscription = replace(
            answer.inscription,
            system=answer.inscription.system or options[0].get("sistema"),
            dealer_id=answer.inscription.dealer_id or self.rules.affiliate_id,
        )
        now = utcnow()
        with self.writing(lead["id"]) as conn:
            recorded = record_kroton_answer(
                conn,
                lead,
                inscription,
                answer.status,
                answer.raw,
                (
                    reason(StatusReason.PROCESSING_ERROR, scrub(answer.message or ""))
                    if answer.status is Status.FAILED
                    else reason(
                        StatusReason.REGISTRATION_ACCEPTED,
                        "; ".join(part for part in (inscription.processing, why) if part),
                    )
                ),
                self.run_id,
                now,
            )
            self.schedule(conn, lead, inscription, now)
            self.checkpoint("before_record_commit", lead["id"])
        self.result.count(str(recorded or lead["status"]))

    # -- the pass ----------------------------------------------------------------------------
    def register_all(self, import_date: date, progress: Progress | None) -> None:
        """Every ``to_register`` lead of the date, one claim at a time."""
        ids = _ids(
            self.engine,
            S.c.import_date == import_date,
            S.c.status == Status.TO_REGISTER.value,
        )
        self.result.leads = len(ids)
        options = _options(self.engine, ids)
        for done, sub_id in enumerate(ids, start=1):
            with self.claimed(sub_id) as lead:
                if lead is not None:
                    self.handle_safely(lead, options.get(sub_id))
            if progress:
                progress("register", done, len(ids))

    def handle_safely(self, lead: dict[str, Any], options: list[dict[str, Any]] | None) -> None:
        """:meth:`handle` one lead; its failure never stops the others (bad credentials do)."""
        try:
            self.handle(lead, options)
        except AuthenticationFailed:
            raise
        except ClaimLost:
            self.result.claims_lost += 1
        except InvalidCpf:
            self.fail(lead, reason(StatusReason.INVALID_PAYLOAD, "dadosPessoais.cpf"))
        except KrotonError as exc:
            self.result.transient_failures += 1
            self.note_transient(lead, type(exc).__name__, clear_mark=False)


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
    claim_ttl_seconds: float = DEFAULT_TTL_SECONDS,
) -> RegistrationResult:
    """Run the registration pass for ``import_date``'s leads; see the module docstring.

    ``checkpoint`` is called at each point of :data:`CHECKPOINTS` (for crash tests; the
    pipeline passes nothing).
    """
    started = time.monotonic()
    result = RegistrationResult(import_date, dry_run=dry_run)
    claims = None if dry_run else LeadClaims(engine, new_owner(run_id), claim_ttl_seconds)
    registrar = _Registrar(engine, kroton, rules, run_id, result, claims, checkpoint)
    if not dry_run and rules.gender_unknown_policy == "hold":
        with engine.begin() as conn:  # Kroton requires M/F: held, never sent (the policy)
            transition_where(
                conn,
                and_(
                    S.c.import_date == import_date,
                    S.c.status == Status.TO_REGISTER.value,
                    S.c.gender.not_in(("M", "F")),
                    or_(S.c.claimed_by.is_(None), S.c.claim_expires_at <= db_now(conn)),
                ),
                Status.REGISTER_FAILED,
                reason(StatusReason.GENDER_UNKNOWN),
                run_id,
            )
    if not dry_run:
        with engine.begin() as conn:
            # A person erased while waiting is never sent (erasure closes these itself; this
            # settles any left behind, so that none waits forever).
            transition_where(
                conn,
                and_(
                    S.c.import_date == import_date,
                    S.c.status == Status.TO_REGISTER.value,
                    S.c.cpf.like("X%"),
                ),
                Status.REGISTER_FAILED,
                reason(StatusReason.PERSONAL_DATA_ERASED),
                run_id,
            )
    registrar.register_all(import_date, progress)
    if claims is not None:
        poll_pending(engine, kroton, import_date, claims, run_id, poll_after, result, progress)
    result.seconds = time.monotonic() - started
    log.info(
        "register %s: %d leads, %d found at Kroton, %d posted, %d unknown, %d held by another "
        "run, outcomes %s",
        import_date,
        result.leads,
        result.found_at_kroton,
        result.posted,
        result.unknown_outcomes,
        result.claimed_elsewhere,
        result.outcomes,
    )
    return result


if TYPE_CHECKING:
    from kroton_pipeline.steps.register_leads import RegistrationResult


def _ask(kroton: KrotonApi, lead: dict[str, Any]) -> InscriptionsAnswer | None:
    if lead["kroton_subscription_id"]:
        return kroton.inscription_status(lead["kroton_subscription_id"], lead["kroton_system"])
    if is_erased(lead["cpf"]):  # and Kroton never told us its id
        return None
    return kroton.inscriptions_by_cpf(lead["cpf"])


def poll_pending(
    engine: Engine,
    kroton: KrotonApi,
    import_date: date,
    claims: LeadClaims,
    run_id: str | None,
    poll_after: timedelta,
    result: RegistrationResult,
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    """Ask Kroton about the date's pending inscriptions and record what they became."""
    # A lead Kroton answered moments ago has not moved yet: asking again wastes budget.
    checked_before = utcnow() - poll_after
    due = (
        S.c.import_date == import_date,
        S.c.status == Status.AWAITING_REGISTER.value,
        or_(S.c.last_check.is_(None), S.c.last_check <= checked_before),
    )
    with engine.connect() as conn:
        ids = list(conn.execute(select(S.c.id).where(*due).order_by(S.c.id)).scalars())
    for done, sub_id in enumerate(ids, start=1):
        with claims.hold(sub_id, *due) as lead:
            if lead is None:
                result.claimed_elsewhere += 1
                continue
            try:
                _poll_one(engine, kroton, claims, lead, run_id, result)
            except AuthenticationFailed:
                raise
            except ClaimLost:
                result.claims_lost += 1
            except KrotonError as exc:
                result.transient_failures += 1
                claims.note_failed_attempt(sub_id, f"poll: {type(exc).__name__}")
        if progress:
            progress("poll", done, len(ids))


def _poll_one(
    engine: Engine,
    kroton: KrotonApi,
    claims: LeadClaims,
    lead: dict[str, Any],
    run_id: str | None,
    result: RegistrationResult,
) -> None:
    answer = _ask(kroton, lead)
    result.polled += 1
    inscription = answer.best() if answer is not None else None
    if answer is None or inscription is None:
        log.warning("subscription %s: Kroton holds no inscription yet", lead["id"])
        return
    status = person_status(answer)
    why = (
        reason(StatusReason.PROCESSING_ERROR, scrub(inscription.message or ""))
        if status is Status.FAILED
        else reason(StatusReason.PROCESSING_SUCCEEDED)
    )
    with engine.begin() as conn:
        claims.require(lead["id"], conn)
        recorded = record_kroton_answer(
            conn, lead, inscription, status, answer.raw, why, run_id, utcnow()
        )
    outcome = str(recorded or lead["status"])
    result.poll_outcomes[outcome] = result.poll_outcomes.get(outcome, 0) + 1
    if recorded is not None and recorded is not Status.AWAITING_REGISTER:
        result.resolved_pending += 1
