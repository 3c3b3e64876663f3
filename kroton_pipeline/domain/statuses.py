"""The subscription status machine (SPEC §5) and Kroton's answer tables.

This module is the single place that says which statuses exist, which transitions are
allowed, which statuses are final, and how Kroton's classifications and processing states
map onto them. ``kroton_pipeline.db.status_changes`` is the only writer of statuses and asks
this module before every change.
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
# Leads whose inscription Kroton still moves: the daily checker follows these.
TRACKED: frozenset[Status] = frozenset({S.AWAITING_REGISTER, S.REGISTERED})
# Leads a later run will pick up again without an operator.
RETRYABLE: frozenset[Status] = frozenset({S.TO_SYNC, S.COURSE_FAILED, S.TO_REGISTER})


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


# Kroton classification (source.inscricao.classificacao.descricao) -> internal status.
CLASSIFICATION_STATUS: dict[str, Status] = {
    "Aluno": S.ENROLLED,
    "Convocado": S.ENROLLED,
    "Classificado": S.REGISTERED,
    "Inscrito": S.REGISTERED,
    "Itinerante": S.REGISTERED,
    "Inscrito VG Online": S.REGISTERED,
    "Ausente": S.DROPPED,
    "Desclassificado": S.DROPPED,
}

# Kroton asynchronous processing state -> internal status.
PROCESSING_STATUS: dict[str, Status] = {
    "NEW": S.AWAITING_REGISTER,
    "PROCESSING": S.AWAITING_REGISTER,
    "SUCCESS": S.REGISTERED,
    "ERROR": S.FAILED,
}


def status_for_classification(classification: str | None) -> Status | None:
    """The status a Kroton classification means, or ``None`` when it is unknown."""
    if classification is None:
        return None
    return CLASSIFICATION_STATUS.get(classification.strip())


def status_for_processing(state: str | None) -> Status | None:
    """The status an asynchronous processing state means, or ``None`` when unknown."""
    if state is None:
        return None
    return PROCESSING_STATUS.get(state.strip().upper())
