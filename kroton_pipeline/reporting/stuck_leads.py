"""Stuck leads: found before anyone asks.

The source document's healthy pipeline takes a lead from import to ``registered`` in under
24 hours, and its support guide starts from "a student was not registered after 48 h". A lead
is **stuck** when the pipeline still owes it a move and it waits too long:

- still before ``registered`` (``to_sync``, ``course_failed``, ``to_register``,
  ``awaiting_register``) more than ``KROTON_STUCK_AFTER_HOURS`` (24) after its import
  (``subscriptions.created_at``), or
- ``awaiting_register`` (Kroton still processing) for more than
  ``KROTON_STUCK_AWAITING_HOURS`` (6) since it entered that status (``status_history``).

Leads that ended (``empty_course``, ``register_failed``, ``failed``...) are not stuck: they
carry a final reason, shown by the look-up and counted by the funnel. The result holds no
personal data (subscription ids only), so it can go to run metadata, checks and Slack as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, case, func, or_, select

from kroton_pipeline.db.models import StatusHistory, Subscription
from kroton_pipeline.domain.reason_catalogue import status_reason_info
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.settings import StuckThresholds

# Before ``registered`` and still owed a move by the pipeline.
PENDING: tuple[Status, ...] = (
    Status.TO_SYNC,
    Status.COURSE_FAILED,
    Status.TO_REGISTER,
    Status.AWAITING_REGISTER,
)
# What to look at when leads wait in a status: the pipeline, not the lead, is usually at fault.
STUCK_ACTIONS: dict[Status, str] = {
    Status.TO_SYNC: "Did all_jobs (or the retry pass) run for this import date? Look at its "
    "failures.",
    Status.COURSE_FAILED: "The catalog search keeps failing: run the health check "
    "(catalog_search) and look at the retry pass's runs.",
    Status.TO_REGISTER: "Did register (or the retry pass) run for this date? Kroton's transient "
    "failures show in the look-up (last error).",
    Status.AWAITING_REGISTER: "Kroton has not finished processing: check that the retry pass "
    "polls the date; ask Kroton if it lasts.",
}
# Ids listed per import date: enough to look a few up, short enough for a metadata table.
MAX_IDS = 50
NO_REASON = "-"
DEFAULT_THRESHOLDS = StuckThresholds()


@dataclass(frozen=True)
class StuckGroup:
    """Stuck leads sharing a status and a reason code."""

    status: str
    reason: str
    leads: int
    past_deadline: int
    awaiting_too_long: int


@dataclass(frozen=True)
class StuckLeads:
    """The stuck leads of some import dates at ``now``; ``fires`` when there is any."""

    now: datetime
    thresholds: StuckThresholds
    import_dates: tuple[date, ...] | None  # None: every date
    total: int = 0
    past_deadline: int = 0  # before registered, more than after_hours after import
    awaiting_too_long: int = 0  # awaiting_register more than awaiting_hours
    groups: tuple[StuckGroup, ...] = ()
    by_date: dict[date, int] = field(default_factory=dict)
    ids: tuple[int, ...] = ()  # the first MAX_IDS per date, lowest first

    @property
    def fires(self) -> bool:
        return self.total > 0

    def summary(self) -> str:
        """One line for a check's description or a Slack alert."""
        if not self.fires:
            return "no stuck leads"
        return (
            f"{self.total} stuck lead(s): {self.past_deadline} not registered "
            f"{self.thresholds.after_hours:g} h after import, {self.awaiting_too_long} "
            f"awaiting Kroton's processing over {self.thresholds.awaiting_hours:g} h"
        )

    def markdown(self) -> str:
        """A table by status and reason, with the catalogue's action and the ids."""
        if not self.fires:
            return "No stuck leads."
        after = f"not registered after {self.thresholds.after_hours:g} h"
        awaiting = f"awaiting over {self.thresholds.awaiting_hours:g} h"
        lines = [
            f"**{self.summary()}**",
            "",
            f"| status | reason | leads | {after} | {awaiting} | what to check |",
            "|---|---|---:|---:|---:|---|",
        ]
        for group in self.groups:
            lines.append(
                f"| `{group.status}` | `{group.reason}` | {group.leads} | {group.past_deadline} "
                f"| {group.awaiting_too_long} | {STUCK_ACTIONS[Status(group.status)]} |"
            )
        if len(self.by_date) > 1:
            dates = ", ".join(f"{day}: {count}" for day, count in sorted(self.by_date.items()))
            lines += ["", f"By import date: {dates}"]
        shown = ", ".join(str(sub_id) for sub_id in self.ids)
        more = f" (first {MAX_IDS} per date)" if len(self.ids) < self.total else ""
        lines += [
            "",
            f"Subscription ids{more}: {shown}",
            "",
            "One lead's story: `python -m kroton_pipeline.lead <id>`",
        ]
        return "\n".join(lines)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _stuck_leads_query(
    now: datetime, thresholds: StuckThresholds, import_dates: Sequence[date] | None
) -> Select[Any]:
    """One row per stuck lead: id, import date, status, reason and which rule it breaks."""
    S = Subscription
    entered_awaiting = (
        select(func.max(StatusHistory.changed_at))
        .where(
            StatusHistory.subscription_id == S.id,
            StatusHistory.to_status == Status.AWAITING_REGISTER.value,
        )
        .correlate(S)
        .scalar_subquery()
    )
    past_deadline = and_(
        S.status.in_([status.value for status in PENDING]),
        S.created_at <= now - timedelta(hours=thresholds.after_hours),
    )
    awaiting_too_long = and_(
        S.status == Status.AWAITING_REGISTER.value,
        func.coalesce(entered_awaiting, S.sent_at, S.created_at)
        <= now - timedelta(hours=thresholds.awaiting_hours),
    )
    conditions = [or_(past_deadline, awaiting_too_long)]
    if import_dates is not None:
        conditions.append(S.import_date.in_(list(import_dates)))
    return select(
        S.id,
        S.import_date,
        S.status,
        S.status_reason,
        case((past_deadline, 1), else_=0).label("past_deadline"),
        case((awaiting_too_long, 1), else_=0).label("awaiting_too_long"),
        func.row_number().over(partition_by=S.import_date, order_by=S.id).label("position"),
    ).where(*conditions)


def stuck_leads_by_date(
    conn: Connection,
    now: datetime,
    thresholds: StuckThresholds = DEFAULT_THRESHOLDS,
    import_dates: Sequence[date] | None = None,
) -> dict[date, StuckLeads]:
    """The stuck leads of each import date that has any (of ``import_dates``, or all).

    ``now`` is the clock the thresholds are measured against (naive UTC, or aware).
    """
    now = _naive_utc(now)
    leads = _stuck_leads_query(now, thresholds, import_dates).subquery()
    reason = leads.c.status_reason
    grouped = conn.execute(
        select(
            leads.c.import_date,
            leads.c.status,
            reason,
            func.count(),
            func.sum(leads.c.past_deadline),
            func.sum(leads.c.awaiting_too_long),
        ).group_by(leads.c.import_date, leads.c.status, reason)
    ).all()
    ids: dict[date, list[int]] = {}
    for import_date, sub_id in conn.execute(
        select(leads.c.import_date, leads.c.id)
        .where(leads.c.position <= MAX_IDS)
        .order_by(leads.c.import_date, leads.c.id)
    ):
        ids.setdefault(import_date, []).append(sub_id)

    rows: dict[date, list[tuple[str, str, int, int, int]]] = {}
    for import_date, status, stored_reason, count, past, awaiting in grouped:
        info = status_reason_info(stored_reason)
        code = info.code if info is not None else (stored_reason or NO_REASON)
        rows.setdefault(import_date, []).append(
            (status, code, int(count), int(past or 0), int(awaiting or 0))
        )
    results = {
        import_date: _result(now, thresholds, (import_date,), date_rows, ids[import_date])
        for import_date, date_rows in sorted(rows.items())
    }
    return {day: replace(result, by_date={day: result.total}) for day, result in results.items()}


def find_stuck_leads(
    conn: Connection,
    now: datetime,
    thresholds: StuckThresholds = DEFAULT_THRESHOLDS,
    import_dates: Sequence[date] | None = None,
) -> StuckLeads:
    """The stuck leads of ``import_dates`` (every date when ``None``), taken together.

    For one import date's check pass ``[that_date]``: ``fires`` is the check's verdict,
    ``markdown()`` its table, ``total``/``past_deadline``/``awaiting_too_long`` its numbers.
    """
    per_date = stuck_leads_by_date(conn, now, thresholds, import_dates)
    dates = tuple(import_dates) if import_dates is not None else None
    rows = [
        (g.status, g.reason, g.leads, g.past_deadline, g.awaiting_too_long)
        for result in per_date.values()
        for g in result.groups
    ]
    ids = [sub_id for result in per_date.values() for sub_id in result.ids]
    combined = _result(_naive_utc(now), thresholds, dates, rows, ids)
    return replace(combined, by_date={day: result.total for day, result in per_date.items()})


def _result(
    now: datetime,
    thresholds: StuckThresholds,
    dates: tuple[date, ...] | None,
    rows: Sequence[tuple[str, str, int, int, int]],
    ids: Sequence[int],
) -> StuckLeads:
    merged: dict[tuple[str, str], list[int]] = {}
    for status, code, count, past, awaiting in rows:
        totals = merged.setdefault((status, code), [0, 0, 0])
        totals[0] += count
        totals[1] += past
        totals[2] += awaiting
    order = {status.value: n for n, status in enumerate(PENDING)}
    groups = tuple(
        StuckGroup(status, code, *totals)
        for (status, code), totals in sorted(
            merged.items(), key=lambda item: (order.get(item[0][0], 99), -item[1][0], item[0][1])
        )
    )
    return StuckLeads(
        now=now,
        thresholds=thresholds,
        import_dates=dates,
        total=sum(g.leads for g in groups),
        past_deadline=sum(g.past_deadline for g in groups),
        awaiting_too_long=sum(g.awaiting_too_long for g in groups),
        groups=groups,
        ids=tuple(sorted(ids)),
    )
