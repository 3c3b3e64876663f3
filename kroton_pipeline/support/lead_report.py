"""One person's story as text for a support person: masked unless asked otherwise.

Masked (the default), the text carries no CPF, name, e-mail, phone, birth date, street or
number: each is shown through ``domain.leads``, and every free text that may quote
Kroton's words (reasons, errors) is scrubbed. ``show_personal_data`` prints the values as
stored, for an authorised person; the command line logs that it did.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from kroton_pipeline.domain.leads import (
    mask_birthday,
    mask_cpf,
    mask_email,
    mask_name,
    mask_phone,
    scrub,
)
from kroton_pipeline.domain.reason_catalogue import (
    STATUS_MEANINGS,
    reason_detail,
    rejection_info,
    status_reason_info,
)
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.settings import SAO_PAULO
from kroton_pipeline.support.lead_story import Attempt, KrotonAnswer, LeadStory
from kroton_pipeline.support.next_step import next_step

INDENT = "  "


def _when(value: datetime | date | None) -> str:
    """A stored naive-UTC timestamp in São Paulo time, or a date as it is."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        local = value.replace(tzinfo=UTC).astimezone(SAO_PAULO)
        return local.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


class _Teller:
    def __init__(self, show_personal_data: bool) -> None:
        self.show = show_personal_data

    def text(self, value: str | None) -> str:
        """A free text that may quote personal data (a reason's detail, an error)."""
        if not value:
            return ""
        return value if self.show else scrub(value)

    def reason(self, stored: str | None) -> str:
        """``code: detail`` with the detail masked."""
        if not stored:
            return "-"
        info = status_reason_info(stored)
        if info is None:
            return self.text(stored)
        detail = reason_detail(stored)
        return f"{info.code}: {self.text(detail)}" if detail else info.code

    def person(self, lead: dict[str, Any]) -> list[str]:
        if self.show:
            phone = f"({lead.get('area_code') or '--'}) {lead.get('phone_number') or '-'}"
            person = [
                str(lead.get("user_name") or "-"),
                f"CPF {lead.get('cpf')}",
                str(lead.get("email") or "-"),
                phone,
                f"born {_when(lead.get('birthday'))}",
            ]
            address = (
                f"{lead.get('street') or '-'}, {lead.get('number') or '-'}, "
                f"CEP {lead.get('cep') or '-'}"
            )
        else:
            person = [
                mask_name(str(lead.get("user_name") or "")),
                f"CPF {mask_cpf(str(lead.get('cpf') or ''))}",
                mask_email(str(lead.get("email") or "")),
                mask_phone(lead.get("area_code"), lead.get("phone_number")),
                f"born {mask_birthday()}",
            ]
            address = f"CEP {str(lead.get('cep') or '')[:2]}***-***"
        gender = f"gender {lead.get('gender') or '-'} ({lead.get('gender_source') or 'not set'})"
        address += f", {lead.get('city') or '-'}/{lead.get('uf') or '-'}"
        if lead.get("address_defaulted"):
            address += f" (the default address is sent: {lead.get('address_issue')})"
        return [" · ".join([*person, gender]), address]


def render_story(story: LeadStory, *, now: datetime, show_personal_data: bool = False) -> str:
    """The story as lines of text; ``now`` (naive UTC) dates "what happens next"."""
    if story.erased:
        return _render_erased(story)
    teller = _Teller(show_personal_data)
    lines: list[str] = []
    cpf = story.cpf
    n = len(story.attempts)
    head = f"Lead look-up: {n} attempt(s), {len(story.export_rows)} export row(s)"
    if cpf:
        head += f", CPF {cpf if show_personal_data else mask_cpf(cpf)}"
    lines += [head + "  (times in São Paulo)", "", "Export rows naming this person:"]
    number_of = {a.subscription_id: a.number for a in story.attempts}
    for row in story.export_rows:
        where = f"{INDENT}{row.import_date} row {row.row_number if row.row_number else '-'}"
        if row.subscription_id is not None:
            lines.append(
                f"{where}: imported as subscription {row.subscription_id} "
                f"(attempt {number_of[row.subscription_id]})"
            )
            continue
        info = rejection_info(row.rejection)
        detail = f" ({teller.text(row.detail)})" if row.detail else ""
        lines.append(f"{where}: rejected, {row.rejection}{detail}")
        if info is not None:
            lines.append(f"{INDENT * 3}{info.meaning} {info.action}")
    if not story.attempts:
        lines += ["", "No subscription: every exported row naming this person was rejected."]
    for attempt in story.attempts:
        lines += ["", *_render_attempt(attempt, n, teller, now)]
    return "\n".join(lines) + "\n"


def _render_erased(story: LeadStory) -> str:
    when = f" on {_when(story.erased_at)}" if story.erased_at else ""
    ids = ", ".join(str(i) for i in story.erased_subscription_ids)
    which = f" (subscription {ids})" if ids else ""
    return (
        f"Erased on request (LGPD){when}{which}: this person's personal data was erased and "
        "their story is not kept to be shown. A later export naming them is refused "
        "(erased_on_request).\n"
    )


def _render_attempt(attempt: Attempt, total: int, teller: _Teller, now: datetime) -> list[str]:
    lead = attempt.lead
    status = Status(lead["status"])
    lines = [
        f"Attempt {attempt.number} of {total}: subscription {attempt.subscription_id}, "
        f"import date {lead['import_date']} row {lead.get('row_number') or '-'}, "
        f"imported {_when(lead.get('created_at'))}",
    ]
    person = teller.person(lead)
    wanted = (
        f"{lead.get('course_name')} ({lead.get('course_type')}, {lead.get('modality')}), "
        f"unit {lead.get('unit_id')}, campus {lead.get('campus') or '-'}, {lead.get('system')}, "
        f"R$ {lead.get('monthly_price')}/month, period {lead.get('capture_period')}"
    )
    lines += [f"{INDENT}Person:  {person[0]}", f"{INDENT}Address: {person[1]}"]
    lines += [f"{INDENT}Wanted:  {wanted}"]
    lines += [
        f"{INDENT}Status:  {status.value} ({teller.reason(lead.get('status_reason'))})",
        f"{INDENT}         {STATUS_MEANINGS[status]}",
    ]
    info = status_reason_info(lead.get("status_reason"))
    if info is not None:
        lines.append(f"{INDENT}Reason:  {info.meaning} {info.action}")
    if lead.get("attempts") or lead.get("last_error"):
        lines.append(
            f"{INDENT}Transient failures: {lead.get('attempts') or 0}, last error: "
            f"{teller.text(lead.get('last_error')) or '-'}"
        )
    lines.append(f"{INDENT}Status changes:")
    for step in attempt.history:
        move = f"{step.from_status or '(new)'} -> {step.to_status}"
        lines.append(
            f"{INDENT * 2}{_when(step.changed_at)}  {move:<36} "
            f"{teller.reason(step.reason):<28}  run {step.run_id or '-'}"
        )
    if not attempt.history:
        lines.append(f"{INDENT * 2}(none recorded)")
    lines.append(f"{INDENT}Course options:")
    for option in attempt.options:
        lines.append(
            f"{INDENT * 2}{option.rank}. offer {option.offer_id}: {option.course or '-'}, "
            f"{option.campus or '-'} ({option.shift or '-'}), registrations until "
            f"{option.registration_ends or '-'}; found {_when(option.searched_at)}"
        )
    if not attempt.options:
        lines.append(f"{INDENT * 2}(none chosen)")
    lines += _render_kroton(attempt, lead)
    lines += [
        f"{INDENT}Sent: {_when(lead.get('sent_at'))} · registered: "
        f"{_when(lead.get('registered_at'))} · last look-up: {_when(lead.get('last_check'))} "
        f"· next planned look-up: {_when(lead.get('next_check_on'))}",
        f"{INDENT}Next: {next_step(lead, now)}",
    ]
    return lines


def _render_kroton(attempt: Attempt, lead: dict[str, Any]) -> list[str]:
    if lead.get("kroton_subscription_id"):
        ids = f"inscription {lead['kroton_subscription_id']} ({lead.get('kroton_system') or '-'})"
    else:
        ids = "no inscription id known"
    if lead.get("kroton_classification"):
        ids += f", classification {lead['kroton_classification']}"
    lines = [f"{INDENT}Kroton:  {ids}"]
    answers = sorted(attempt.answers, key=_answer_order)
    for answer in answers:
        said = [
            f"processing {answer.processing}" if answer.processing else "",
            f"classification {answer.classification}" if answer.classification else "",
            f"-> {answer.internal_status}" if answer.internal_status else "",
        ]
        label = "latest answer" if answer.kind == "answer" else "snapshot"
        lines.append(
            f"{INDENT * 2}{_when(answer.on):<16}  {label:<13} "
            f"{', '.join(part for part in said if part) or '(nothing readable)'}"
        )
    if not answers:
        lines.append(f"{INDENT * 2}(no answer from Kroton recorded)")
    return lines


def _answer_order(answer: KrotonAnswer) -> tuple[str, int]:
    on = answer.on.date() if isinstance(answer.on, datetime) else answer.on
    return (on.isoformat(), 0 if answer.kind == "snapshot" else 1)
