"""Every reason code a lead can carry, with its one-line meaning and the action that fixes it.

One catalogue for the two kinds of code: why a subscription's status changed
(``domain.statuses``) and why an exported row did not become a subscription
(``domain.rejections``), plus a line per status. The lead look-up
(``python -m kroton_pipeline.lead``), the stuck-leads report and the support reference
(``docs/support.md``, generated from here and checked by a test) all read it, so a meaning
is written once. Adding a code to either enum without an entry here fails the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from kroton_pipeline.domain.rejections import RejectionReason
from kroton_pipeline.domain.statuses import Status, StatusReason, reason_code

R = RejectionReason
SR = StatusReason


class Action(StrEnum):
    """What, in one word, fixes a reason: the kind of the catalogue's action text."""

    NOTHING = "nothing"  # a success, or an answer nobody needs to act on
    WAIT = "wait"  # the pipeline moves the lead on by itself
    REPLAY = "replay"  # fix the cause, then run replay_register_failed with the reason
    FIX_EXPORT = "fix the export"  # the source data is wrong: fix it upstream
    ASK_KROTON = "ask Kroton"  # only Kroton can say or change it


@dataclass(frozen=True)
class ReasonInfo:
    """One code: what it means and what an operator does about it."""

    code: str
    kind: Literal["status", "rejection"]
    meaning: str
    action: str
    action_kind: Action


_STATUS_REASONS: dict[StatusReason, tuple[str, Action, str]] = {
    SR.IMPORTED: ("Imported from the day's export.", Action.WAIT, "Wait: fix_data runs next."),
    SR.OFFERS_FOUND: (
        "Two matching offers were found in Kroton's catalog.",
        Action.WAIT,
        "Wait: the registration pass sends it.",
    ),
    SR.NO_OFFERS: (
        "The catalog has fewer than two open offers matching the lead's course.",
        Action.NOTHING,
        "Nothing for this lead; check the export's course data if it happens often.",
    ),
    SR.CATALOG_FAILED: (
        "The catalog search failed (detail: the failure kind).",
        Action.WAIT,
        "Wait: the retry pass searches again.",
    ),
    SR.GENDER_UNKNOWN: (
        "No gender in the export, other subscriptions or the IBGE names; Kroton needs M/F.",
        Action.REPLAY,
        "Fix the gender, then replay with reason gender_unknown.",
    ),
    SR.INVALID_PAYLOAD: (
        "The lead cannot make a payload Kroton accepts (detail: the field).",
        Action.REPLAY,
        "Fix the data, then replay with reason invalid_payload.",
    ),
    SR.NO_COURSE_OPTIONS: (
        "The lead reached registration without its two offers recorded.",
        Action.REPLAY,
        "Replay with reason no_course_options (to to_sync): course matching runs again.",
    ),
    SR.FOUND_AT_KROTON: (
        "Kroton already holds an inscription for this CPF: followed, not registered again.",
        Action.NOTHING,
        "Nothing: the checker follows it.",
    ),
    SR.ALREADY_INSCRIBED: (
        "Kroton refused the registration as a duplicate (409); its inscription is followed.",
        Action.NOTHING,
        "Nothing: the checker follows it.",
    ),
    SR.STUDENT_AT_KROTON: (
        "Kroton's enrolment records show the person is already a student.",
        Action.NOTHING,
        "Nothing: a success.",
    ),
    SR.REGISTRATION_ACCEPTED: (
        "Kroton accepted the registration (detail: its processing state).",
        Action.NOTHING,
        "Nothing: pending ones are polled.",
    ),
    SR.KROTON_REJECTED: (
        "Kroton refused the registration (detail: Kroton's message).",
        Action.REPLAY,
        "Fix what Kroton names, then replay with reason kroton_rejected.",
    ),
    SR.RECONCILED: (
        "A registration with an unknown outcome was settled by a CPF look-up.",
        Action.NOTHING,
        "Nothing.",
    ),
    SR.PROCESSING_SUCCEEDED: (
        "Kroton finished processing the inscription successfully.",
        Action.NOTHING,
        "Nothing: the checker follows it.",
    ),
    SR.PROCESSING_ERROR: (
        "Kroton's processing of the inscription ended in ERROR (detail: Kroton's message).",
        Action.ASK_KROTON,
        "Ask Kroton about the message; the lead may be exported again in a later file.",
    ),
    SR.FOLLOW_UP: (
        "The follow-up saw a new classification (detail: Kroton's classification).",
        Action.NOTHING,
        "Nothing.",
    ),
    SR.TRACKING_ENDED: (
        "The lead's intake is over (inscription window plus grace, or the horizon): no longer "
        "followed; its status is what Kroton last said.",
        Action.NOTHING,
        "Nothing; export the person again for a later intake.",
    ),
    SR.PERSONAL_DATA_ERASED: (
        "The person's data was erased on request (LGPD); never sent again.",
        Action.NOTHING,
        "Nothing.",
    ),
    SR.REPLAYED: (
        "Sent back on an operator's request.",
        Action.WAIT,
        "Wait: the next run takes it.",
    ),
}

_FIX_AT_SOURCE = (
    "Fix the export: correct the value at the source; a later export brings the lead in."
)
_REJECTIONS: dict[RejectionReason, tuple[str, Action, str]] = {
    R.WRONG_FIELD_COUNT: (
        "The row has more or fewer fields than the header (often an unquoted delimiter); "
        "detail: both counts.",
        Action.FIX_EXPORT,
        "Fix the export: quote values holding the delimiter; the rest of the file imported.",
    ),
    R.INVALID_CPF: (
        "CPF is empty, does not have 11 digits or its check digits are wrong.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.DUPLICATE_CPF_IN_FILE: (
        "The same CPF appears earlier in the same export; only its first valid row is imported.",
        Action.NOTHING,
        "Nothing: the first row is the lead (fix the export if the rows disagree).",
    ),
    R.CPF_ALREADY_IMPORTED: (
        "The CPF has an active or enrolled subscription imported on another date (a person "
        "whose attempt ended without success comes back as a new attempt instead).",
        Action.NOTHING,
        "Nothing: the earlier subscription is the lead; look it up by CPF.",
    ),
    R.ERASED_ON_REQUEST: (
        "The person asked for their data to be erased (LGPD); nothing of the row is kept.",
        Action.NOTHING,
        "Nothing: never imported again.",
    ),
    R.MISSING_NAME: ("The name is empty or has no letters.", Action.FIX_EXPORT, _FIX_AT_SOURCE),
    R.INVALID_BIRTHDAY: (
        "The birth date is empty, not YYYY-MM-DD / DD/MM/YYYY, or not a real calendar date.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.BIRTHDAY_BEFORE_1900: (
        "The birth date is before 1900-01-01.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.BIRTHDAY_IN_FUTURE: (
        "The birth date is after the import date.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.AGE_OUT_OF_RANGE: (
        "The age at the import date is outside the configured range for higher education.",
        Action.NOTHING,
        "Nothing if the birth date is right; else fix the export at the source.",
    ),
    R.INVALID_EMAIL: (
        "The e-mail is empty or not a valid address.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.INVALID_PHONE: (
        "The phone is empty or not a valid Brazilian number (DDD + 8 or 9 digits).",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.MISSING_COURSE_DATA: (
        "Course name, course type or campus is empty.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.INVALID_UNIT_ID: (
        "The unit id is empty or not a whole number.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.INVALID_PRICE: (
        "The monthly price is empty or not a positive number.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.INVALID_CAPTURE_PERIOD: (
        "The capture period is empty or not a whole number.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.INVALID_MODALITY: (
        "The modality is not one the catalog knows.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.INVALID_SYSTEM: (
        "The system is not one of Kroton's: COLABORAR, OLIMPO, SAP, ATHENAS.",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.VALUE_TOO_LONG: (
        "A value is longer than its database column holds (detail: the column and its limit).",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
    R.VALUE_OUT_OF_RANGE: (
        "A number is outside what its database column holds (detail: the column).",
        Action.FIX_EXPORT,
        _FIX_AT_SOURCE,
    ),
}

# The source document's status list ("O que significa cada status"), with ours added.
STATUS_MEANINGS: dict[Status, str] = {
    Status.TO_SYNC: "Imported; waiting for the gender fill and the course search.",
    Status.COURSE_FAILED: "The catalog search failed; the retry pass searches again.",
    Status.EMPTY_COURSE: "Ended: no two open offers match the lead's course.",
    Status.TO_REGISTER: "Two offers found; waiting for the registration pass.",
    Status.AWAITING_REGISTER: "Sent; Kroton is still processing the inscription.",
    Status.REGISTERED: "Inscribed in the entrance exam; followed by the daily checker.",
    Status.REGISTER_FAILED: "Not sent, or refused by Kroton; replayable once the cause is fixed.",
    Status.ENROLLED: "Ended: enrolled at the institution (Aluno, Convocado).",
    Status.DROPPED: "Ended: absent or disqualified (Ausente, Desclassificado).",
    Status.FAILED: "Ended: Kroton's processing of the inscription failed.",
}


def _entries() -> dict[str, ReasonInfo]:
    entries: dict[str, ReasonInfo] = {}
    tables: tuple[tuple[Literal["status", "rejection"], dict], ...] = (
        ("status", _STATUS_REASONS),
        ("rejection", _REJECTIONS),
    )
    for kind, table in tables:
        for code, (meaning, action_kind, action) in table.items():
            entries[code.value] = ReasonInfo(code.value, kind, meaning, action, action_kind)
    return entries


CATALOGUE: dict[str, ReasonInfo] = _entries()


def status_reason_info(stored: str | None) -> ReasonInfo | None:
    """The entry of a stored status reason (``code`` or ``"code: detail"``)."""
    code = reason_code(stored)
    return CATALOGUE[code.value] if code is not None else None


def rejection_info(code: str | None) -> ReasonInfo | None:
    """The entry of a ``lead_rejections.reason`` code, or ``None`` for an unknown one."""
    info = CATALOGUE.get((code or "").strip())
    return info if info is not None and info.kind == "rejection" else None


def reason_detail(stored: str | None) -> str | None:
    """The detail of a stored reason (what follows ``"code: "``), or ``None``."""
    if not stored or ":" not in stored:
        return None
    return stored.split(":", 1)[1].strip() or None
