"""The check before registering: follow what Kroton already holds, or register anew.

The design document's checker stops a registration only for someone already enrolled. The
export is, by definition, people who did not convert, and many of them hold an inscription
from an earlier cycle (absent at the exam, disqualified, failed in processing, or simply
old). The rule:

- a student (an active enrolment, ``matricula.ra``, or an enrolled classification) is
  followed, never registered;
- an active inscription of the current intake — live (registered, pending, or a
  classification the table does not know) and made within ``stale_after_days`` — is
  followed;
- anything else (no inscription; only dropped, failed or stale ones) is registered anew.

Each decision says why, in words an operator can read in ``status_history``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kroton_pipeline.domain.kroton_answers import Enrolments, Inscription, InscriptionsAnswer
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.settings import BusinessRules

S = Status
LIVE = (S.REGISTERED, S.AWAITING_REGISTER)


@dataclass(frozen=True)
class PrecheckRules:
    """``KROTON_PRECHECK_STALE_DAYS``: an inscription older than this belongs to an earlier
    intake cycle (production integrations use about twelve months)."""

    stale_after_days: int = 365


def precheck_rules(rules: BusinessRules) -> PrecheckRules:
    return PrecheckRules(stale_after_days=rules.precheck_stale_days)


@dataclass(frozen=True)
class Precheck:
    """The decision for one lead: follow ``inscription`` (at ``status``) or register."""

    follow: bool
    why: str
    inscription: Inscription | None = None
    status: Status | None = None


def _is_stale(ins: Inscription, today: date, rules: PrecheckRules) -> bool:
    when = ins.inscribed_at
    if when is None:
        return False  # no date: assume the current intake (following is the safe side)
    day = when.date() if isinstance(when, datetime) else when
    return day < today - timedelta(days=rules.stale_after_days)


def _ignored(inscriptions: tuple[Inscription, ...], today: date, rules: PrecheckRules) -> str:
    kinds: Counter[str] = Counter()
    for ins in inscriptions:
        if ins.status is S.DROPPED:
            kinds["dropped"] += 1
        elif ins.status is S.FAILED:
            kinds["failed"] += 1
        elif _is_stale(ins, today, rules):
            kinds["stale"] += 1
    return ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))


def precheck(
    answer: InscriptionsAnswer,
    enrolments: Enrolments | None,
    today: date,
    rules: PrecheckRules,
) -> Precheck:
    """Follow or register, for what Kroton's look-ups said about a person."""
    students = [ins for ins in answer.inscriptions if ins.status is S.ENROLLED]
    if students or (enrolments is not None and enrolments.student):
        inscription = students[0] if students else answer.best()
        return Precheck(True, "student at Kroton", inscription, S.ENROLLED)
    current = [
        ins
        for ins in answer.inscriptions
        if (ins.status in LIVE or ins.unknown_classification) and not _is_stale(ins, today, rules)
    ]
    if current:
        best = InscriptionsAnswer(tuple(current)).best()
        assert best is not None
        return Precheck(True, "active inscription of the current intake", best, best.status)
    ignored = _ignored(answer.inscriptions, today, rules)
    return Precheck(False, f"earlier inscriptions ignored: {ignored}" if ignored else "")


def needs_enrolment_check(answer: InscriptionsAnswer, today: date, rules: PrecheckRules) -> bool:
    """Whether the enrolment look-up could change the decision: the answer carries no
    enrolment data (the design document's dialect), Kroton knows the person, and nothing in
    the answer is followed already. A person Kroton does not know at all costs no request."""
    if answer.says_enrolment or not answer.inscriptions:
        return False
    return not precheck(answer, None, today, rules).follow
