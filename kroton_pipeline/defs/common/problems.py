"""Where a failed lead is found in the UI: one import date's problems and a run's outcomes.

Read generically from the database (``subscriptions.status_reason`` and ``last_error``,
``status_history``), so every reason the steps record shows up as it is, with the lead's id
and masked CPF — never other personal data.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import dagster as dg
from sqlalchemy import ColumnElement, Engine, and_, case, func, or_, select

from kroton_pipeline.db.models import StatusHistory, Subscription
from kroton_pipeline.defs.common.metadata import counts_table
from kroton_pipeline.domain.leads import mask_cpf
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.reporting.markdown_table import markdown_table

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
