"""Masking of personal data for logs, Slack, run metadata and exceptions (LGPD).

``mask_*`` mask one known value; :func:`scrub` finds and masks personal data inside free
text; :class:`PersonalDataFilter` applies :func:`scrub` to every record of a logger or
handler it is attached to.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from typing import Any

from kroton_pipeline.domain.cpf import is_valid_cpf

_NON_DIGITS = re.compile(r"[^0-9]")

_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Punctuated (123.456.789-09, optionally without some separators) or 11 bare digits.
_CPF = re.compile(r"(?<![0-9])[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]{2}(?![0-9])")
_ISO_DATE = re.compile(r"(?<![0-9])[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?![0-9])")
_BR_DATE = re.compile(r"(?<![0-9])[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}(?![0-9])")
# DDD (optionally after +55, optionally in parentheses) + 8 or 9 digits with the usual
# separators: 10-11 digits in all. Invalid numbers are masked too; they are still someone's.
_PHONE = re.compile(
    r"(?<![0-9])(?:\+?55[ .-]?)?(?:\([0-9]{2}\)|[0-9]{2})[ .-]?"
    r"(?:[0-9][ .-]?)?[0-9]{4}[ .-]?[0-9]{4}(?![0-9])"
)


def mask_cpf(cpf: str) -> str:
    """``"12345678909"`` or ``"123.456.789-09"`` -> ``"***.456.789-**"``."""
    digits = _NON_DIGITS.sub("", cpf or "")
    if len(digits) != 11:
        return "***.***.***-**"
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


def mask_email(email: str) -> str:
    """``"joao.silva@gmail.com"`` -> ``"j***@gmail.com"`` (first letter and domain kept)."""
    local, at, domain = (email or "").strip().rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(area_code: str | None, number: str | None) -> str:
    """``("11", "975405666")`` -> ``"(11) *****-**66"``: only the DDD and last 2 digits."""
    area = _NON_DIGITS.sub("", area_code or "")
    digits = _NON_DIGITS.sub("", number or "")
    shown_area = area if len(area) == 2 else "**"
    if len(digits) < 6:
        return f"({shown_area}) ****-****"
    return f"({shown_area}) {'*' * (len(digits) - 4)}-**{digits[-2:]}"


def mask_birthday(_birthday: object = None) -> str:
    """Any birth date -> ``"****-**-**"``: no part of it is useful enough to show."""
    return "****-**-**"


def mask_name(name: str) -> str:
    """``"Mauricio Matsoui"`` -> ``"M*** M***"``: initials only."""
    return " ".join(f"{word[:1]}***" for word in (name or "").split()) or "***"


def mask_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an EnrollmentPayload fit for run metadata: every personal field masked.

    Offer ids, channel, affiliate, exam type, city and UF stay readable.
    """
    masked = copy.deepcopy(dict(payload))
    person = masked.get("dadosPessoais")
    if isinstance(person, dict):
        phone = _NON_DIGITS.sub("", str(person.get("celular") or ""))
        person["celular"] = mask_phone(phone[:2], phone[2:])
        person["cpf"] = mask_cpf(str(person.get("cpf") or ""))
        person["dataNascimento"] = mask_birthday()
        person["email"] = mask_email(str(person.get("email") or ""))
        person["nome"] = mask_name(str(person.get("nome") or ""))
        person["rg"] = "***"
        address = person.get("endereco")
        if isinstance(address, dict):
            address["cep"] = str(address.get("cep") or "")[:2] + "***-***"
            address["logradouro"] = "***"
            address["numero"] = "***"
    return masked


def scrub(text: str, *, dates: bool = True) -> str:
    """Mask every e-mail, CPF, Brazilian phone and date (ISO or DD/MM/YYYY) found in ``text``.

    Any date may be a birth date, so dates are masked too; pass ``dates=False`` where the
    text is known to carry only operational dates (partition keys, run times).
    """
    text = _EMAIL.sub(lambda m: mask_email(m.group()), text)
    if dates:
        text = _ISO_DATE.sub("****-**-**", text)
        text = _BR_DATE.sub("**/**/****", text)
    text = _CPF.sub(_mask_cpf_or_phone, text)
    return _PHONE.sub(lambda m: _mask_phone_text(m.group()), text)


def _mask_cpf_or_phone(match: re.Match[str]) -> str:
    # Eleven bare digits may be a CPF or DDD + mobile: mask as what it validates as.
    value = match.group()
    if value.isdigit() and not is_valid_cpf(value):
        return _mask_phone_text(value)
    return mask_cpf(value)


def _mask_phone_text(value: str) -> str:
    digits = _NON_DIGITS.sub("", value)
    if len(digits) in (12, 13) and digits.startswith("55"):
        digits = digits[2:]
    return mask_phone(digits[:2], digits[2:])


class PersonalDataFilter(logging.Filter):
    """Scrubs personal data from log records (message, arguments and exception text).

    A filter on a *logger* sees only records logged on that logger, not those propagated
    from its children; attach it to a *handler* to cover everything the handler writes.
    ``mask_dates=False`` keeps dates readable (see :func:`scrub`).
    """

    def __init__(self, name: str = "", *, mask_dates: bool = True) -> None:
        super().__init__(name)
        self.mask_dates = mask_dates

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad %-args: still scrub what we have
            message = f"{record.msg} {record.args}"
        record.msg = scrub(message, dates=self.mask_dates)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, dates=self.mask_dates)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, dates=self.mask_dates)
        return True
