"""Masking of personal data in the clients' log lines and exception messages (LGPD).

The clients log endpoint *names* and masked CPFs, never URLs; these helpers are the last
line of defence for text that may still carry personal data (Kroton's own messages, httpx's
request log lines, whose URLs contain the CPF). The domain's ``kroton_pipeline.domain.masking``
is used when present so that the whole project masks the same way.
"""

from __future__ import annotations

import logging
import re

# CPF with or without punctuation, e-mail addresses, Brazilian phone numbers (10-13 digits,
# optional +55, DDD in parentheses, separators).
_CPF = re.compile(r"(?<!\d)\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\d])(?:\+?55\s?)?\(?\d{2}\)?\s?9?\d{4}[-\s]?\d{4}(?!\d)")
_DATE = re.compile(r"(?<!\d)(?:19|20)\d{2}-\d{2}-\d{2}(?!\d)")


def mask_cpf(cpf: str | None) -> str:
    """``"37845760870"`` -> ``"***.***.*08-70"``-style: only the last 4 digits stay visible."""
    digits = re.sub(r"\D", "", cpf or "")
    if not digits:
        return "<no cpf>"
    return "***.***.*" + digits[-4:-2] + "-" + digits[-2:] if len(digits) >= 4 else "***"


def scrub(text: str) -> str:
    """Replace every CPF, e-mail, phone number and ISO date in ``text`` by a mask."""
    text = _EMAIL.sub("<email>", text)
    text = _CPF.sub(lambda m: mask_cpf(m.group(0)), text)
    text = _PHONE.sub("<phone>", text)
    return _DATE.sub("<date>", text)


class ScrubFilter(logging.Filter):
    """Logging filter that rewrites a record's message with :func:`scrub`.

    Installed on the ``httpx`` and ``httpcore`` loggers, whose INFO lines carry full URLs
    (and so CPFs) of every request.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a badly formatted record: leave it to the logging machinery
            return True
        record.msg = scrub(message)
        record.args = ()
        return True


_installed = False


def install_library_log_filters() -> None:
    """Scrub the log records of the HTTP libraries the clients use (idempotent)."""
    global _installed
    if _installed:
        return
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).addFilter(_filter())
    _installed = True


def _filter() -> logging.Filter:
    try:  # the project-wide filter, when the domain module provides it
        from kroton_pipeline.domain.masking import PersonalDataFilter  # type: ignore[import-not-found]

        return PersonalDataFilter()
    except ImportError:
        return ScrubFilter()
