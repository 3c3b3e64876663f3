"""Why a subscription's status changed: the codes of ``status_reason`` and ``status_history``.

A reason is stored as its code, or as ``"<code>: <detail>"`` when there is more to say
(Kroton's message, the payload field at fault); :func:`reason_code` reads the code back.
Each code's one-line meaning and the action that fixes it are in ``domain.reason_catalogue``.
Import rejections have their own codes (``domain.rejections``).
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
