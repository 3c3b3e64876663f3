"""State of the Slack alerts, so each one is sent once when it starts and once when it clears.

Kept in the project database (not in a sensor cursor) because several sensors, and a
redeployed daemon, must agree on whether an alert is already open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, String, Text, false, func
from sqlalchemy.orm import Mapped, mapped_column

from kroton_pipeline.db.models import Base
from kroton_pipeline.settings import utcnow


class AlertState(Base):
    """One alert condition (``rate_limit_wait:kroton``, ``import_volume``...) and its state."""

    __tablename__ = "alert_states"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The figure that decided the last evaluation (seconds waited, retry share, rows...).
    value: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_run_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now(), onupdate=utcnow
    )
