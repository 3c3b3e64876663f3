"""Time helpers: the database stores naive UTC timestamps; business dates are São Paulo's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

TIMEZONE = "America/Sao_Paulo"
SAO_PAULO = ZoneInfo(TIMEZONE)


def utcnow() -> datetime:
    """Now as a naive UTC datetime: the one clock every timestamp column is written with.

    The server defaults (``now()``) stay as a fallback for hand-written SQL, but PostgreSQL's
    ``now()`` is in the session time zone, so Python writes the value whenever it can.
    """
    return datetime.now(UTC).replace(tzinfo=None)


def today_in_sao_paulo() -> date:
    return datetime.now(SAO_PAULO).date()
