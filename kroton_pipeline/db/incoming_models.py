"""The staging tables the Databricks job writes over JDBC: the second source of leads.

The job appends the day's rows to ``incoming_leads`` (every export column as text, plus the
import date) and then adds one row to ``incoming_batches`` saying how many rows the batch
holds. A batch is complete once ``incoming_leads`` holds exactly ``row_count`` rows for its
date; only then does the landing sensor start its import (docs/exports.md).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Integer, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from kroton_pipeline.db.models import Base, BigId


class IncomingBatch(Base):
    """One import date's staged batch, written by the Databricks job after its rows."""

    __tablename__ = "incoming_batches"

    import_date: Mapped[date] = mapped_column(Date, primary_key=True)
    row_count: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    completed_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class IncomingLead(Base):
    """One staged export row: the export's columns as text, in the order they were written
    (``id``)."""

    __tablename__ = "incoming_leads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    import_date: Mapped[date] = mapped_column(Date, index=True)
    # The export columns, all nullable text: the import validates them like a file's.
    cpf: Mapped[str | None] = mapped_column(Text)
    user_name: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(Text)
    birthday: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    area_code: Mapped[str | None] = mapped_column(Text)
    phone_number: Mapped[str | None] = mapped_column(Text)
    cep: Mapped[str | None] = mapped_column(Text)
    street: Mapped[str | None] = mapped_column(Text)
    number: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    uf: Mapped[str | None] = mapped_column(Text)
    course_name: Mapped[str | None] = mapped_column(Text)
    unit_id: Mapped[str | None] = mapped_column(Text)
    course_type: Mapped[str | None] = mapped_column(Text)
    modality: Mapped[str | None] = mapped_column(Text)
    monthly_price: Mapped[str | None] = mapped_column(Text)
    capture_period: Mapped[str | None] = mapped_column(Text)
    system: Mapped[str | None] = mapped_column(Text)
    campus: Mapped[str | None] = mapped_column(Text)
