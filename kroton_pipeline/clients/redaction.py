"""Masking for the clients' log lines and exception messages (LGPD).

The clients log endpoint *names* and masked CPFs, never URLs. Two places still see personal
data and are covered here: Kroton's own messages (scrubbed before they are quoted) and the
HTTP libraries' log lines, whose URLs contain the CPF of every look-up.
"""

from __future__ import annotations

import logging

from kroton_pipeline.domain.masking import PersonalDataFilter, mask_cpf, scrub

__all__ = ["install_library_log_filters", "mask_cpf", "scrub"]

# A filter on a logger only sees records logged on that very logger, so every logger the
# libraries write to is listed (httpx logs each request with its URL at INFO).
LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


def install_library_log_filters() -> None:
    """Scrub every record of the HTTP libraries' loggers (idempotent)."""
    for name in LIBRARY_LOGGERS:
        library_logger = logging.getLogger(name)
        if not any(isinstance(f, PersonalDataFilter) for f in library_logger.filters):
            library_logger.addFilter(PersonalDataFilter())
