"""What a finished run did, read from the Dagster instance and the project database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import dagster as dg
from sqlalchemy import Engine, select

from kroton_pipeline.db.models import ImportFile

PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Assets partitioned by import date: their runs report the leads of those dates.
IMPORT_DATE_ASSETS = frozenset(
    {"subscriptions", "subscription_genders", "course_matches", "registrations"}
)
TRAILING_DAYS = 7


@dataclass
class RunFacts:
    """One run: its job, partition(s), duration and the metadata of what it materialized."""

    job: str
    run_id: str
    partition: str | None
    dates: list[date] = field(default_factory=list)
    duration_seconds: float | None = None
    materialized: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def import_dates(self) -> list[date] | None:
        """The import dates the run covered, or None when it is not an import-date run."""
        if IMPORT_DATE_ASSETS & set(self.materialized) or (
            self.dates and not self.materialized and self.job != "checker"
        ):
            return self.dates
        return None

    @property
    def all_metadata(self) -> list[dict[str, Any]]:
        return [entry for entries in self.materialized.values() for entry in entries]


def _dates(run: dg.DagsterRun) -> tuple[str | None, list[date]]:
    tags = run.tags
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    single = tags.get(PARTITION_TAG)
    try:
        if start and end:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
            days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            return (start if start == end else f"{start}…{end}"), days
        if single:
            return single, [date.fromisoformat(single)]
    except ValueError:  # a partition that is not a date: shown, not interpreted
        return single or f"{start}…{end}", []
    return None, []


def run_facts(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunFacts:
    """Gather :class:`RunFacts` for ``run`` (finished or failed)."""
    partition, dates = _dates(run)
    stats = instance.get_run_stats(run.run_id)
    duration = stats.end_time - stats.start_time if stats.start_time and stats.end_time else None
    materialized: dict[str, list[dict[str, Any]]] = {}
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    for record in records:
        event = record.event_log_entry.asset_materialization
        if event is None:
            continue
        metadata = {key: value.value for key, value in event.metadata.items()}
        materialized.setdefault(event.asset_key.to_user_string(), []).append(metadata)
    return RunFacts(
        job=run.job_name,
        run_id=run.run_id,
        partition=partition,
        dates=dates,
        duration_seconds=duration,
        materialized=materialized,
    )


def import_volumes(engine: Engine, import_date: date) -> tuple[int | None, list[int]]:
    """(rows exported for ``import_date``, rows of each import date in the 7 days before it)."""
    table = ImportFile.__table__
    with engine.connect() as conn:
        today = conn.execute(
            select(table.c.rows_in).where(table.c.import_date == import_date)
        ).scalar_one_or_none()
        trailing = conn.execute(
            select(table.c.rows_in)
            .where(
                table.c.import_date < import_date,
                table.c.import_date >= import_date - timedelta(days=TRAILING_DAYS),
            )
            .order_by(table.c.import_date)
        ).scalars()
        return today, [int(rows) for rows in trailing]


def wholly_rejected(engine: Engine, import_dates: list[date]) -> dict[date, int]:
    """Rows in of each of ``import_dates`` whose export had rows and imported none."""
    table = ImportFile.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.import_date, table.c.rows_in).where(
                table.c.import_date.in_(import_dates), table.c.rows_in > 0, table.c.imported == 0
            )
        ).all()
    return {day: int(rows_in) for day, rows_in in rows}


def root_error(error: Any) -> Any:
    """The user's exception inside Dagster's wrappers (``DagsterExecutionStepExecutionError``)."""
    while (
        error is not None
        and getattr(error, "cause", None) is not None
        and (str(getattr(error, "cls_name", "")).startswith("Dagster"))
    ):
        error = error.cause
    return error
