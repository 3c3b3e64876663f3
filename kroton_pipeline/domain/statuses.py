"""The subscription status machine and the reasons a status changes.

Sections, in the order of the code:

**statuses**: The subscription status machine.

This module is the single place that says which statuses exist, which transitions are
allowed and which statuses are final; what Kroton's answers mean is decided in
``kroton_pipeline.domain.kroton_api``. ``kroton_pipeline.db.status_changes`` is the only
writer of statuses and asks this module before every change.

**status_reasons**: Why a subscription's status changed: the codes of ``status_reason`` and
``status_history``.

A reason is stored as its code, or as ``"<code>: <detail>"`` when there is more to say
(Kroton's message, the payload field at fault); :func:`reason_code` reads the code back.
Each code's one-line meaning and the action that fixes it are in ``domain.reason_catalogue``.
Import rejections have their own codes (``domain.rejections``).
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    TO_SYNC = "to_sync"
    COURSE_FAILED = "course_failed"
    EMPTY_COURSE = "empty_course"
    TO_REGISTER = "to_register"
    AWAITING_REGISTER = "awaiting_register"
    REGISTERED = "registered"
    REGISTER_FAILED = "register_failed"
    ENROLLED = "enrolled"
    DROPPED = "dropped"
    FAILED = "failed"


S = Status


# What Kroton may say about an existing inscription found by the pre-check: the lead goes
# straight to that status, so every status Kroton can report is reachable from to_register.
_KROTON_REPORTED = frozenset({S.AWAITING_REGISTER, S.REGISTERED, S.ENROLLED, S.DROPPED, S.FAILED})


TRANSITIONS: dict[Status, frozenset[Status]] = {
    # register_failed from to_sync: gender still unknown after fix_data (Kroton needs M/F).
    S.TO_SYNC: frozenset({S.COURSE_FAILED, S.EMPTY_COURSE, S.TO_REGISTER, S.REGISTER_FAILED}),
    S.COURSE_FAILED: frozenset({S.TO_REGISTER, S.EMPTY_COURSE, S.REGISTER_FAILED}),
    S.EMPTY_COURSE: frozenset(),
    S.TO_REGISTER: frozenset({S.REGISTER_FAILED} | _KROTON_REPORTED),
    S.AWAITING_REGISTER: frozenset({S.REGISTERED, S.FAILED}),
    S.REGISTERED: frozenset({S.ENROLLED, S.DROPPED, S.FAILED}),
    # Final, but an operator may replay it once its cause is fixed.
    S.REGISTER_FAILED: frozenset({S.TO_SYNC, S.TO_REGISTER}),
    S.ENROLLED: frozenset(),
    S.DROPPED: frozenset(),
    S.FAILED: frozenset(),
}


FINAL: frozenset[Status] = frozenset(
    {S.EMPTY_COURSE, S.ENROLLED, S.DROPPED, S.FAILED, S.REGISTER_FAILED}
)


# Attempts that ended without success: the person may come back in a later export as a new
# attempt (one active subscription per CPF; enrolled people and erased people never return).
ENDED_WITHOUT_SUCCESS: frozenset[Status] = frozenset(
    {S.EMPTY_COURSE, S.DROPPED, S.FAILED, S.REGISTER_FAILED}
)


# Leads whose inscription Kroton still moves: the daily checker follows these.
TRACKED: frozenset[Status] = frozenset({S.AWAITING_REGISTER, S.REGISTERED})


# Leads a later run will pick up again without an operator.
RETRYABLE: frozenset[Status] = frozenset({S.TO_SYNC, S.COURSE_FAILED, S.TO_REGISTER})


# Leads not yet sent to Kroton (the same statuses: each waits for its next step).
WAITING_TO_BE_SENT: frozenset[Status] = RETRYABLE


class IllegalTransition(RuntimeError):
    """A status change the state machine does not allow: always a bug, never data."""


def is_allowed(from_status: Status | str | None, to_status: Status | str) -> bool:
    """Whether a subscription may move from ``from_status`` to ``to_status``.

    ``None`` is a subscription being created: it may only start in ``to_sync``.
    """
    to = Status(to_status)
    if from_status is None:
        return to is S.TO_SYNC
    return to in TRANSITIONS[Status(from_status)]


def check_transition(from_status: Status | str | None, to_status: Status | str) -> None:
    """Raise :class:`IllegalTransition` unless the transition is allowed."""
    if not is_allowed(from_status, to_status):
        raise IllegalTransition(f"illegal status transition {from_status} -> {to_status}")


def allowed_sources(to_status: Status | str) -> frozenset[Status]:
    """Every status from which ``to_status`` may be reached."""
    to = Status(to_status)
    return frozenset(src for src, targets in TRANSITIONS.items() if to in targets)


def status_path(current: Status, target: Status) -> list[Status] | None:
    """The status changes that take a subscription from ``current`` to ``target``.

    ``[]`` when nothing changes; ``None`` when the move does not fit the state machine (for
    example a processed lead reported as pending again): the caller keeps the status and
    warns. A pending inscription that Kroton already classified goes through ``registered``
    so that the history shows both steps.
    """
    if current == target:
        return []
    if is_allowed(current, target):
        return [target]
    if current is S.AWAITING_REGISTER and is_allowed(S.REGISTERED, target):
        return [S.REGISTERED, target]
    return None


class StatusReason(StrEnum):
    """Reason code of a status change."""

    IMPORTED = "imported"
    OFFERS_FOUND = "offers_found"
    NO_OFFERS = "no_offers"
    CATALOG_FAILED = "catalog_failed"
    GENDER_UNKNOWN = "gender_unknown"
    INVALID_PAYLOAD = "invalid_payload"
    NO_COURSE_OPTIONS = "no_course_options"
    FOUND_AT_KROTON = "found_at_kroton"
    ALREADY_INSCRIBED = "already_inscribed"
    STUDENT_AT_KROTON = "student_at_kroton"
    REGISTRATION_ACCEPTED = "registration_accepted"
    KROTON_REJECTED = "kroton_rejected"
    RECONCILED = "reconciled"
    PROCESSING_SUCCEEDED = "processing_succeeded"
    PROCESSING_ERROR = "processing_error"
    FOLLOW_UP = "follow_up"
    TRACKING_ENDED = "tracking_ended"
    PERSONAL_DATA_ERASED = "personal_data_erased"
    REPLAYED = "replayed"


def reason(code: StatusReason, detail: str | None = None) -> str:
    """The stored form of a reason: ``code`` or ``"code: detail"``."""
    detail = (detail or "").strip()
    return f"{code.value}: {detail}" if detail else code.value


def reason_code(stored: str | None) -> StatusReason | None:
    """The code of a stored reason, or ``None`` when it is not one of ours."""
    if not stored:
        return None
    head = stored.split(":", 1)[0].strip()
    try:
        return StatusReason(head)
    except ValueError:
        return None
