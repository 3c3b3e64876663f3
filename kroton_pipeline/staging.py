"""Leads the Databricks job staged in the database (``incoming_leads``), read as an export.

A :class:`StagedBatch` behaves like a landing export for the import: ``read()`` gives the
rows as a DataFrame of strings with ``row_number`` (the order the rows were written) and a
SHA-256 of their content, so the same validation, rejection and accounting path imports
them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, func, select

from kroton_pipeline.db.incoming_models import IncomingBatch, IncomingLead
from kroton_pipeline.domain.leads import REQUIRED_COLUMNS

STAGED_NAME = "incoming_leads"


@dataclass(frozen=True)
class StagedBatch:
    """One import date's complete batch in ``incoming_leads``."""

    engine: Engine
    import_date: date
    row_count: int
    completed_at: datetime | None

    @property
    def name(self) -> str:
        return f"{STAGED_NAME} {self.import_date.isoformat()}"

    def stamp(self) -> str:
        """Row count and completion time: changes when the batch is written again."""
        return f"batch:{self.row_count}:{self.completed_at}"

    def has_marker(self) -> bool:
        """Always: only complete batches are listed (:func:`complete_batches`)."""
        return True

    def is_empty(self) -> bool:
        """Never: a batch of 0 rows is a day without leads, imported as such."""
        return False

    def digest(self) -> str:
        return self.read()[1]

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The staged rows as one chunk (a day's batch is read at once)."""
        yield self.read()[0]

    def read(self) -> tuple[pd.DataFrame, str]:
        """The staged rows (``None`` read as an empty cell) and their SHA-256."""
        columns = [getattr(IncomingLead, name) for name in REQUIRED_COLUMNS]
        query = (
            select(*columns)
            .where(IncomingLead.import_date == self.import_date)
            .order_by(IncomingLead.id)
        )
        with self.engine.connect() as conn:
            rows = [["" if v is None else str(v) for v in row] for row in conn.execute(query)]
        frame = pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS), dtype=str)
        frame["row_number"] = range(1, len(frame) + 1)
        digest = hashlib.sha256()
        for row in rows:
            digest.update(json.dumps(row, ensure_ascii=False).encode() + b"\n")
        return frame, digest.hexdigest()


def complete_batches(engine: Engine) -> dict[date, StagedBatch]:
    """Every batch whose ``incoming_leads`` rows number exactly its ``row_count``."""
    staged = (
        select(IncomingLead.import_date, func.count().label("rows"))
        .group_by(IncomingLead.import_date)
        .subquery()
    )
    query = (
        select(IncomingBatch.import_date, IncomingBatch.row_count, IncomingBatch.completed_at)
        .outerjoin(staged, staged.c.import_date == IncomingBatch.import_date)
        .where(func.coalesce(staged.c.rows, 0) == IncomingBatch.row_count)
        .order_by(IncomingBatch.import_date)
    )
    with engine.connect() as conn:
        return {
            day: StagedBatch(engine, day, int(count), completed)
            for day, count, completed in conn.execute(query)
        }


def find_batch(engine: Engine, import_date: date) -> StagedBatch | None:
    """The complete batch of ``import_date``, or ``None``."""
    return complete_batches(engine).get(import_date)
