"""Why a subscription's status changed: the codes of ``status_reason`` and ``status_history``.

A reason is stored as its code, or as ``"<code>: <detail>"`` when there is more to say
(Kroton's message, the payload field at fault); :func:`reason_code` reads the code back.
Each code has a one-line meaning and what an operator can do about it, used by reports and
the look-up tools. Import rejections have their own codes (``domain.rejections``).
"""

from __future__ import annotations

from enum import StrEnum


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


MEANINGS: dict[StatusReason, tuple[str, str]] = {
    StatusReason.IMPORTED: ("Imported from the day's export.", "Wait: fix_data runs next."),
    StatusReason.OFFERS_FOUND: (
        "Two matching offers were found in Kroton's catalog.",
        "Wait: the registration pass sends it.",
    ),
    StatusReason.NO_OFFERS: (
        "The catalog has fewer than two open offers matching the lead's course.",
        "Nothing to do for this lead; check the export's course data if it happens often.",
    ),
    StatusReason.CATALOG_FAILED: (
        "The catalog search failed (detail: the failure kind).",
        "Wait: the retry pass searches again.",
    ),
    StatusReason.GENDER_UNKNOWN: (
        "No gender in the export, other subscriptions or the IBGE names; Kroton needs M/F.",
        "Load the IBGE names table or fix the gender, then replay back_to=to_sync.",
    ),
    StatusReason.INVALID_PAYLOAD: (
        "The lead cannot make a payload Kroton accepts (detail: the field).",
        "Fix the data, then replay back_to=to_sync.",
    ),
    StatusReason.NO_COURSE_OPTIONS: (
        "The lead reached registration without its two offers recorded.",
        "Replay back_to=to_sync: course matching runs again.",
    ),
    StatusReason.FOUND_AT_KROTON: (
        "Kroton already holds an inscription for this CPF: followed, not registered again.",
        "Nothing: the checker follows it.",
    ),
    StatusReason.ALREADY_INSCRIBED: (
        "Kroton refused the registration as a duplicate (409); its inscription is followed.",
        "Nothing: the checker follows it.",
    ),
    StatusReason.STUDENT_AT_KROTON: (
        "Kroton's enrolment records show the person is already a student.",
        "Nothing: a success.",
    ),
    StatusReason.REGISTRATION_ACCEPTED: (
        "Kroton accepted the registration (detail: its processing state).",
        "Nothing: pending ones are polled.",
    ),
    StatusReason.KROTON_REJECTED: (
        "Kroton refused the registration (detail: Kroton's message).",
        "Once the cause Kroton names is fixed, replay back_to=to_register.",
    ),
    StatusReason.RECONCILED: (
        "A registration with an unknown outcome was settled by a CPF look-up.",
        "Nothing.",
    ),
    StatusReason.PROCESSING_SUCCEEDED: (
        "Kroton finished processing the inscription successfully.",
        "Nothing: the checker follows it.",
    ),
    StatusReason.PROCESSING_ERROR: (
        "Kroton's processing of the inscription ended in ERROR (detail: Kroton's message).",
        "Ask Kroton about the message; the lead may be exported again in a later file.",
    ),
    StatusReason.FOLLOW_UP: (
        "The follow-up saw a new classification (detail: Kroton's classification).",
        "Nothing.",
    ),
    StatusReason.TRACKING_ENDED: (
        "The lead's intake is over (inscription window plus grace, or the horizon): no longer "
        "followed; its status is what Kroton last said.",
        "Nothing; export the person again for a new intake.",
    ),
    StatusReason.PERSONAL_DATA_ERASED: (
        "The person's data was erased on request (LGPD); never sent again.",
        "Nothing.",
    ),
    StatusReason.REPLAYED: ("Sent back on an operator's request.", "Wait: the next run takes it."),
}
