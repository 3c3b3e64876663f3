"""What happens next to one attempt, in plain words for a support person.

Pure: reads a ``subscriptions`` row and the clock, says who moves the lead on and when, or
what an operator must do (the action comes from ``domain.reason_catalogue``). Never quotes
a reason's detail (it may hold Kroton's words about the person): the look-up shows it apart,
masked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from kroton_pipeline.domain.reason_catalogue import STATUS_MEANINGS, status_reason_info
from kroton_pipeline.domain.statuses import Status

# How long after Kroton's last answer the registration pass polls a pending inscription again:
# steps.register_leads.DEFAULT_POLL_AFTER (a test keeps the two equal; importing the step
# here would load Dagster and the HTTP clients into a quick command-line look-up).
POLL_AFTER = timedelta(minutes=10)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _date_text(value: date | datetime | None) -> str:
    if value is None:
        return "?"
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _retry_note(lead: Mapping[str, Any]) -> str:
    attempts = int(lead.get("attempts") or 0)
    if not attempts:
        return ""
    return f" ({attempts} transient failure(s) so far: it is retried, the look-up shows the last)"


def next_step(lead: Mapping[str, Any], now: datetime, poll_after: timedelta = POLL_AFTER) -> str:
    """One sentence: what happens next to the attempt ``lead`` at ``now`` (naive UTC)."""
    status = Status(lead["status"])
    day = _date_text(lead.get("import_date"))
    info = status_reason_info(lead.get("status_reason"))
    code = info.code if info is not None else None
    if status is Status.TO_SYNC:
        return (
            "waiting for the gender fill and the course search: the next all_jobs or retry "
            f"run of import date {day} takes it{_retry_note(lead)}."
        )
    if status is Status.COURSE_FAILED:
        return (
            "the catalog search failed; the retry pass of import date "
            f"{day} searches again{_retry_note(lead)}."
        )
    if status is Status.TO_REGISTER:
        if lead.get("sent_at") is not None and not lead.get("kroton_subscription_id"):
            return (
                f"a registration was sent on {_date_text(lead['sent_at'])} and no answer was "
                "recorded: the next registration pass settles it with a CPF look-up (it is "
                "never sent twice)."
            )
        return (
            "waiting to be sent to Kroton: the next register, all_jobs or retry run of "
            f"import date {day} sends it{_retry_note(lead)}."
        )
    if status is Status.AWAITING_REGISTER:
        return _awaiting(lead, now, poll_after, day)
    if status is Status.REGISTERED:
        return _registered(lead)
    if status is Status.REGISTER_FAILED:
        action = _lower_first(info.action) if info is not None else "see the reason."
        return (
            f"register_failed ({code or 'no known reason'}): {action.rstrip('.')} "
            f"(job replay_register_failed, import date {day})."
        )
    if status is Status.FAILED:
        action = _lower_first(info.action) if info is not None else "nothing more happens."
        return f"ended: Kroton's processing failed; {action}"
    if status is Status.DROPPED:
        said = lead.get("kroton_classification") or "absent or disqualified"
        return f"ended: Kroton classified the candidate {said}; nothing more happens."
    if status is Status.ENROLLED:
        return "enrolled: a success; nothing more happens."
    if status is Status.EMPTY_COURSE:
        return "ended: no two open offers match the lead's course; nothing more happens."
    return f"{status.value}: {_lower_first(STATUS_MEANINGS[status])}"


def _awaiting(lead: Mapping[str, Any], now: datetime, poll_after: timedelta, day: str) -> str:
    checked = lead.get("last_check")
    due = checked + poll_after if checked is not None else None
    if due is not None and due > now:
        minutes = max(1, math.ceil((due - now).total_seconds() / 60))
        when = f"next poll in ~{minutes} min, by the next registration pass of {day}"
    else:
        when = f"a poll is due: the next register, all_jobs or retry run of {day} makes it"
    checker = lead.get("next_check_on")
    also = f"; the checker also looks on {_date_text(checker)}" if checker is not None else ""
    return f"waiting for Kroton's processing; {when}{also}."


def _registered(lead: Mapping[str, Any]) -> str:
    following = lead.get("next_check_on")
    if following is not None:
        return f"registered: next follow-up on {_date_text(following)}."
    if lead.get("last_check") is None:
        return "registered: the next checker run looks at it."
    return (
        f"registered: follow-ups ended after the look on {_date_text(lead['last_check'])} "
        "(the follow-up schedule is over); Kroton is not asked again."
    )
