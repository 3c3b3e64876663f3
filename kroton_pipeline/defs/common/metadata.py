"""What every asset shows per date: materializations and checks per partition, metadata,
problems, progress lines.

Sections, in the order of the code:

**metadata**: Materialization metadata a person reads at a glance — never with personal data.

Only figures that mean something for the date are shown: zero counts are left out of
tables, and API figures are named for what they count (``kroton/requests``), not for the
client's internal counters.

**per_date**: One materialization, one set of check results, per partition — even in a ranged run.

A backfill of several dates runs as one run (single-run backfill policy), but each date
keeps its own figures: the run's materialization of every partition carries that date's
metadata (``context.add_asset_metadata(..., partition_key=...)``), and each check is
evaluated once per date (an ``AssetCheckEvaluation`` with its partition).

When some dates fail (no export for that day, say), the dates that succeeded are
materialized with their own events and the step then fails naming the others: only the
failed dates turn red.

**problems**: Where a failed lead is found in the UI: one import date's problems and a run's
outcomes.

Read generically from the database (``subscriptions.status_reason`` and ``last_error``,
``status_history``), so every reason the steps record shows up as it is, with the lead's id
and masked CPF — never other personal data.

**progress**: Progress lines for long runs: which date, done/total, rate and ETA, every few seconds.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import dagster as dg
from sqlalchemy import ColumnElement, Engine, and_, case, func, or_, select

from kroton_pipeline.clients.transport import API_FIGURES
from kroton_pipeline.db.models import StatusHistory, Subscription
from kroton_pipeline.domain.leads import mask_cpf
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.reporting.markdown_table import markdown_table

# The import asset still reads the status counts from here.
from kroton_pipeline.reporting.status_counts import status_counts as status_counts


def status_metadata(counts: Mapping[str, int]) -> dict[str, Any]:
    """Leads per status as one table (statuses with leads only) and the total."""
    shown = [(status, count) for status, count in counts.items() if count]
    return {
        "leads_by_status": dg.MetadataValue.md(
            markdown_table(["status", "leads"], shown) if shown else "_no leads_"
        ),
        "leads": dg.MetadataValue.int(sum(counts.values())),
    }


def counts_table(title: str, counts: Mapping[str, int], empty: str = "_none_") -> dg.MetadataValue:
    """A two-column table of non-zero counts, largest first."""
    rows = sorted(
        ((key, value) for key, value in counts.items() if value),
        key=lambda item: (-item[1], item[0]),
    )
    if not rows:
        return dg.MetadataValue.md(empty)
    return dg.MetadataValue.md(markdown_table([title, "leads"], rows))


def numbers(values: Mapping[str, int | float]) -> dict[str, dg.MetadataValue]:
    """Plain numbers (plotted across materializations), typed for Dagster."""
    return {
        key: dg.MetadataValue.int(value)
        if isinstance(value, int)
        else dg.MetadataValue.float(round(value, 3))
        for key, value in values.items()
    }


def api_counters(counters: Mapping[str, int | float]) -> dict[str, float]:
    """The API figures of a client's counters, by counter name (``requests_total``, …)."""
    found: dict[str, float] = {}
    for key, value in counters.items():
        name = key.split(".", 1)[-1]
        if name in API_FIGURES and not isinstance(value, bool):
            found[name] = value
    return found


def api_metadata(
    system: str, before: Mapping[str, float], after: Mapping[str, float], leads: int
) -> dict[str, dg.MetadataValue]:
    """What one date cost on one API: requests always, waits and retries when there were any.

    ``before``/``after`` are :func:`api_counters` around the date's work, so a run over
    several dates gives each date its own figures.
    """
    spent = {name: after.get(name, 0) - before.get(name, 0) for name in API_FIGURES}
    requests = int(spent["requests_total"])
    metadata = {f"{system}/requests": dg.MetadataValue.int(requests)}
    if leads:
        metadata[f"{system}/calls_per_lead"] = dg.MetadataValue.float(round(requests / leads, 3))
    for name, label in API_FIGURES.items():
        value = spent[name]
        if name != "requests_total" and value:
            metadata[f"{system}/{label}"] = (
                dg.MetadataValue.float(round(value, 3))
                if isinstance(value, float)
                else dg.MetadataValue.int(int(value))
            )
    return metadata


@dataclass
class DateRecord:
    """What one partition gets: its metadata and its check results."""

    metadata: dict[str, Any]
    checks: list[dg.AssetCheckResult] = field(default_factory=list)


def _check_outputs(context: dg.AssetExecutionContext) -> Iterator[dg.Output]:
    # Each declared check is an output of the step; its evaluations were logged per date.
    assets_def = context.assets_def
    for spec in assets_def.check_specs:
        yield dg.Output(None, output_name=assets_def.get_output_name_for_asset_check_key(spec.key))


def _evaluations(asset_key: dg.AssetKey, key: str, record: DateRecord) -> Iterator[Any]:
    for check in record.checks:
        yield dg.AssetCheckEvaluation(
            asset_key=asset_key,
            check_name=check.check_name or "",
            passed=check.passed,
            # The run log shows metadata, not the partition: name the date there too.
            metadata={"date": key, **(check.metadata or {})},
            severity=check.severity,
            description=check.description,
            partition=key,
        )


def materialize_per_date(
    context: dg.AssetExecutionContext,
    records: Mapping[str, DateRecord],
    failure: dg.Failure | None = None,
) -> Iterator[Any]:
    """Events for a run over ``records`` (partition key -> record); raise ``failure`` last.

    Without a failure every partition of the run is materialized with its own metadata; with
    one, only the partitions in ``records`` are, and the step fails.
    """
    asset_key = context.asset_key
    if failure is None:
        for key, record in records.items():
            context.add_asset_metadata(record.metadata, partition_key=key)
        yield dg.MaterializeResult()
    else:
        for key, record in records.items():
            yield dg.AssetMaterialization(asset_key, partition=key, metadata=record.metadata)
    for key, record in records.items():
        yield from _evaluations(asset_key, key, record)
    if failure is not None:
        raise failure
    yield from _check_outputs(context)


def observe_per_date(
    context: dg.AssetExecutionContext, records: Mapping[str, dict[str, Any]]
) -> Iterator[Any]:
    """A run that changed nothing (a dry run): one observation per date, no materialization
    and no check result — there is nothing to judge. The asset needs ``output_required=False``.
    """
    for key, metadata in records.items():
        yield dg.AssetObservation(context.asset_key, partition=key, metadata=metadata)
    yield from _check_outputs(context)


def run_keys(context: dg.AssetExecutionContext) -> Sequence[str]:
    """The partition keys the run covers (one, or a backfill's range)."""
    return list(context.partition_keys)


# Statuses that end a lead without a registration, or leave it waiting for an operator.
PROBLEM_STATUSES = (
    Status.REGISTER_FAILED,
    Status.FAILED,
    Status.COURSE_FAILED,
    Status.EMPTY_COURSE,
)


# Rows shown in the problems table; the rest are counted under it.
MAX_PROBLEM_ROWS = 25


# The Dagster UI renders Markdown metadata inline only below 1,000 characters.
INLINE_MARKDOWN_LIMIT = 1000


NO_REASON = "(no reason recorded)"


def _problem_filter(import_date: date):
    waiting_with_error = and_(
        Subscription.status.in_([Status.TO_SYNC.value, Status.TO_REGISTER.value]),
        Subscription.last_error.is_not(None),
    )
    return and_(
        Subscription.import_date == import_date,
        or_(Subscription.status.in_([s.value for s in PROBLEM_STATUSES]), waiting_with_error),
    )


def _priority() -> ColumnElement[int]:
    """Kroton's failures first, leads without a course last: the table shows the top."""
    order = [Status.FAILED, Status.REGISTER_FAILED, Status.COURSE_FAILED, Status.TO_REGISTER]
    return case(
        {status.value: rank for rank, status in enumerate(order)},
        value=Subscription.status,
        else_=len(order),
    )


def _reason(status_reason: str | None, last_error: str | None) -> str:
    parts = [part for part in (status_reason, last_error) if part]
    return " — ".join(parts) if parts else NO_REASON


def problems_metadata(engine: Engine, import_date: date) -> dict[str, dg.MetadataValue]:
    """``problems`` (status, reason, id, masked CPF) and ``problems_by_reason`` for a date."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Subscription.id,
                Subscription.cpf,
                Subscription.status,
                Subscription.status_reason,
                Subscription.last_error,
            )
            .where(_problem_filter(import_date))
            .order_by(_priority(), Subscription.status_reason, Subscription.id)
        ).all()
    by_reason = Counter(
        f"{status}: {_reason(reason, error)}" for _, _, status, reason, error in rows
    )
    if not rows:
        return {
            "problems": dg.MetadataValue.md("_no failed or stuck lead on this date_"),
            "problem_leads": dg.MetadataValue.int(0),
        }
    # As many rows as the UI shows inline (it collapses Markdown of 1,000 characters or
    # more behind a button); every lead is counted in problems_by_reason.
    headers = ["status", "reason", "id", "CPF"]
    table = markdown_table(headers, [])
    for count in range(1, min(len(rows), MAX_PROBLEM_ROWS) + 1):
        shown = [
            (status, _reason(reason, error)[:60], sub_id, mask_cpf(cpf))
            for sub_id, cpf, status, reason, error in rows[:count]
        ]
        candidate = markdown_table(headers, shown)
        if len(candidate) + len(_more(len(rows), count)) >= INLINE_MARKDOWN_LIMIT:
            break
        table = candidate + _more(len(rows), count)
    return {
        "problems": dg.MetadataValue.md(table),
        "problems_by_reason": counts_table("status: reason", by_reason),
        "problem_leads": dg.MetadataValue.int(len(rows)),
    }


def _more(total: int, shown: int) -> str:
    return (
        f"\n\n_and {total - shown} more (all counted in problems_by_reason)_"
        if total > shown
        else ""
    )


def latest_history_id(engine: Engine) -> int:
    """The newest ``status_history`` id: status changes after it are the ones to come."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(StatusHistory.id), 0))).scalar_one())


def run_outcomes(
    engine: Engine, run_id: str, import_date: date | None = None, after_id: int = 0
) -> dict[tuple[str, str, str], int]:
    """Status changes this run made: (from, to, reason) -> leads, for one import date or all
    (and only those after ``after_id``)."""
    query = (
        select(
            StatusHistory.from_status,
            StatusHistory.to_status,
            StatusHistory.reason,
            func.count(),
        )
        .where(StatusHistory.run_id == run_id, StatusHistory.id > after_id)
        .group_by(StatusHistory.from_status, StatusHistory.to_status, StatusHistory.reason)
    )
    if import_date is not None:
        query = query.join(Subscription, Subscription.id == StatusHistory.subscription_id).where(
            Subscription.import_date == import_date
        )
    with engine.connect() as conn:
        return {
            (str(from_status or "new"), str(to_status), str(reason or NO_REASON)): int(count)
            for from_status, to_status, reason, count in conn.execute(query)
        }


def outcomes_metadata(
    outcomes: dict[tuple[str, str, str], int], label: str = "status_changes"
) -> dict[str, dg.MetadataValue]:
    """The run's status changes as a table (from → to, reason) and per new status."""
    if not outcomes:
        return {label: dg.MetadataValue.md("_no status changed_")}
    rows = sorted(outcomes.items(), key=lambda item: (-item[1], item[0]))
    table = markdown_table(
        ["from", "to", "reason", "leads"],
        [(src, dst, reason[:80], count) for (src, dst, reason), count in rows],
    )
    per_status: Counter[str] = Counter()
    for (_, dst, _), count in outcomes.items():
        per_status[dst] += count
    metadata = {label: dg.MetadataValue.md(table)}
    metadata.update(
        {f"became/{status}": dg.MetadataValue.int(count) for status, count in per_status.items()}
    )
    return metadata


Progress = Callable[[str, int, int], None]


class ProgressReporter:
    """Call with (phase, done, total); logs every ``every_seconds`` and when a phase ends.

    The first line of a phase comes once ``every_seconds`` have passed, so its rate and ETA
    rest on measured work (never "ETA 0:00:00" before anything was timed); a short phase
    gets one line, at its end, with its duration.
    """

    def __init__(
        self,
        log: logging.Logger | object,
        every_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.every_seconds = every_seconds
        self.clock = clock
        self.started: dict[str, float] = {}
        self.last_logged: dict[str, float] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = self.clock()
        started = self.started.setdefault(phase, now)
        last = self.last_logged.setdefault(phase, started)
        if done < total and now - last < self.every_seconds:
            return
        self.last_logged[phase] = now
        elapsed = now - started
        share = f"{done}/{total} done ({done * 100 // max(total, 1)}%)"
        if done >= total:
            line = f"{phase}: {share} in {timedelta(seconds=round(elapsed))}"
        else:
            rate = done / elapsed if elapsed > 0 else 0.0
            eta = f"ETA {timedelta(seconds=round((total - done) / rate))}" if rate else "ETA —"
            line = f"{phase}: {share}, {rate:.2f}/s, {eta}"
        self.log.info(line)  # type: ignore[attr-defined]

    def for_date(self, day: date) -> Progress:
        """The reporter with each phase named for ``day`` (runs over several dates)."""
        return lambda phase, done, total: self(f"{phase} {day.isoformat()}", done, total)
