"""The funnel report's queries, set-based, on SQLite and PostgreSQL alike.

They answer the source document's three "Consultas Úteis no Banco":

- status per period:        :func:`status_since` (``created_at`` in the last 7 days)
- conversion per modality:  :func:`conversion_by` with ``Subscription.modality`` (30 days)
- performance per campus:   :func:`conversion_by` with ``Subscription.campus`` (7 days)

plus conversion per course (the document's "Taxa de Conversão por Curso", 30 days),

plus status counts per import date, the registration success rate, import → registration
time, daily volume and the retry rate. Every query aggregates in the database except the
median, computed from one column of durations (medians are not portable SQL).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, case, func, literal, or_, select

from kroton_pipeline.db.models import ImportFile, StatusHistory, Subscription
from kroton_pipeline.domain.statuses import Status, StatusReason
from kroton_pipeline.reporting.success_rate import ACCEPTED, registration_success

# "inscritos" of the source document's campus query.
INSCRIBED = (Status.REGISTERED, Status.ENROLLED)
NO_VALUE = "(none)"

S = Subscription.__table__


def _values(statuses: tuple[Status, ...]) -> list[str]:
    return [status.value for status in statuses]


def _count_where(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class GroupConversion:
    """One modality or campus: leads, inscribed (registered + enrolled), enrolled."""

    name: str
    total: int
    inscribed: int
    enrolled: int

    @property
    def conversion(self) -> float:
        """Enrolled ÷ leads (the source document's ``taxa_conversao``, as a fraction)."""
        return self.enrolled / self.total if self.total else 0.0


@dataclass(frozen=True)
class DailyVolume:
    """One import date: rows exported, imported, rejected, sent to Kroton, accepted."""

    import_date: date
    rows_in: int
    imported: int
    rejected: int
    sent: int
    accepted: int


@dataclass
class FunnelReport:
    """Every figure of the report; :mod:`.markdown` turns it into tables."""

    today: date
    status_by_import_date: dict[date, dict[str, int]] = field(default_factory=dict)
    status_last_7_days: dict[str, int] = field(default_factory=dict)
    by_modality: list[GroupConversion] = field(default_factory=list)
    by_campus: list[GroupConversion] = field(default_factory=list)
    by_course: list[GroupConversion] = field(default_factory=list)
    # Where genders came from (export, subscriptions, ibge, unknown) and the NI leads held.
    gender_sources: dict[str, int] = field(default_factory=dict)
    gender_unknown_held: int = 0
    accepted: int = 0
    decided: int = 0
    hours_to_registration: dict[date, float] = field(default_factory=dict)
    median_hours_to_registration: float | None = None
    mean_hours_to_registration: float | None = None
    daily_volume: list[DailyVolume] = field(default_factory=list)
    registered_per_day: dict[date, int] = field(default_factory=dict)
    leads_retried: int = 0
    leads_total: int = 0

    @property
    def success_rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None

    @property
    def retry_rate(self) -> float | None:
        return self.leads_retried / self.leads_total if self.leads_total else None


def _since(today: date, days: int) -> datetime:
    """Midnight ``days`` before ``today``: the source's ``CURRENT_DATE - INTERVAL 'n days'``."""
    return datetime.combine(today - timedelta(days=days), time())


def status_by_import_date(conn: Connection) -> dict[date, dict[str, int]]:
    """Leads per status for every import date."""
    rows = conn.execute(
        select(S.c.import_date, S.c.status, func.count())
        .group_by(S.c.import_date, S.c.status)
        .order_by(S.c.import_date)
    )
    result: dict[date, dict[str, int]] = defaultdict(dict)
    for import_date, status, count in rows:
        result[import_date][status] = int(count)
    return dict(result)


def status_since(conn: Connection, since: datetime) -> dict[str, int]:
    """Source query 1: ``SELECT status, COUNT(*) ... WHERE created_at >= since GROUP BY status``."""
    rows = conn.execute(
        select(S.c.status, func.count()).where(S.c.created_at >= since).group_by(S.c.status)
    )
    return {status: int(count) for status, count in rows}


def conversion_by(conn: Connection, column, since: datetime) -> list[GroupConversion]:
    """Source queries 2 and 3: leads, inscribed and enrolled per modality (or campus)."""
    name = func.coalesce(column, literal(NO_VALUE))
    total = func.count()
    rows = conn.execute(
        select(
            name,
            total,
            _count_where(S.c.status.in_(_values(INSCRIBED))),
            _count_where(S.c.status == Status.ENROLLED.value),
        )
        .where(S.c.created_at >= since)
        .group_by(name)
        .order_by(total.desc(), name)
    )
    return [GroupConversion(str(n), int(t), int(i), int(e)) for n, t, i, e in rows]


def hours_to_registration(
    conn: Connection,
) -> tuple[dict[date, float], float | None, float | None]:
    """Median hours from import (``created_at``) to registration per import date, and the
    median and mean over every date."""
    rows = conn.execute(
        select(S.c.import_date, S.c.created_at, S.c.registered_at).where(
            S.c.registered_at.is_not(None)
        )
    )
    per_date: dict[date, list[float]] = defaultdict(list)
    for import_date, created_at, registered_at in rows:
        per_date[import_date].append(max((registered_at - created_at).total_seconds(), 0) / 3600)
    every = [hours for values in per_date.values() for hours in values]
    medians = {day: round(statistics.median(values), 2) for day, values in sorted(per_date.items())}
    if not every:
        return medians, None, None
    return medians, round(statistics.median(every), 2), round(statistics.fmean(every), 2)


def gender_sources(conn: Connection) -> tuple[dict[str, int], int]:
    """Leads per gender source (``names`` = the IBGE table) and the NI leads held back."""
    rows = conn.execute(select(S.c.gender_source, func.count()).group_by(S.c.gender_source))
    sources = {str(source or "unknown"): int(count) for source, count in rows}
    held = conn.execute(
        select(func.count()).where(
            S.c.status == Status.REGISTER_FAILED.value,
            S.c.status_reason.like(f"{StatusReason.GENDER_UNKNOWN.value}%"),
        )
    ).scalar_one()
    return sources, int(held)


def daily_volume(conn: Connection) -> list[DailyVolume]:
    """Per import date: rows exported/imported/rejected (import_files), sent, accepted."""
    files = ImportFile.__table__
    per_date = {
        row.import_date: row
        for row in conn.execute(
            select(
                S.c.import_date,
                _count_where(S.c.sent_at.is_not(None)).label("sent"),
                _count_where(S.c.status.in_(_values(ACCEPTED))).label("accepted"),
            ).group_by(S.c.import_date)
        )
    }
    volumes = []
    for file in conn.execute(select(files).order_by(files.c.import_date)):
        leads = per_date.get(file.import_date)
        volumes.append(
            DailyVolume(
                import_date=file.import_date,
                rows_in=int(file.rows_in),
                imported=int(file.imported),
                rejected=int(file.rejected),
                sent=int(leads.sent) if leads else 0,
                accepted=int(leads.accepted) if leads else 0,
            )
        )
    return volumes


def registered_per_day(conn: Connection) -> dict[date, int]:
    """Leads registered at Kroton per day of registration (UTC)."""
    day = func.date(S.c.registered_at)
    rows = conn.execute(
        select(day, func.count()).where(S.c.registered_at.is_not(None)).group_by(day).order_by(day)
    )
    return {date.fromisoformat(str(value)[:10]): int(count) for value, count in rows}


def retry_counts(conn: Connection) -> tuple[int, int]:
    """(leads that needed another try, leads): a failed attempt now, or ever course_failed."""
    history = StatusHistory.__table__
    failed_once = select(history.c.subscription_id).where(
        or_(
            history.c.to_status == Status.COURSE_FAILED.value,
            history.c.from_status == Status.COURSE_FAILED.value,
        )
    )
    retried, total = conn.execute(
        select(_count_where(or_(S.c.attempts > 0, S.c.id.in_(failed_once))), func.count())
    ).one()
    return int(retried), int(total)


def funnel_report(conn: Connection, today: date) -> FunnelReport:
    """Every figure of the funnel report, as of ``today``."""
    medians, overall, mean = hours_to_registration(conn)
    sources, held = gender_sources(conn)
    success = registration_success(conn)
    retried, total = retry_counts(conn)
    return FunnelReport(
        today=today,
        status_by_import_date=status_by_import_date(conn),
        status_last_7_days=status_since(conn, _since(today, 7)),
        by_modality=conversion_by(conn, S.c.modality, _since(today, 30)),
        by_campus=conversion_by(conn, S.c.campus, _since(today, 7)),
        by_course=conversion_by(conn, S.c.course_name, _since(today, 30)),
        gender_sources=sources,
        gender_unknown_held=held,
        accepted=success.accepted,
        decided=success.sent,
        hours_to_registration=medians,
        median_hours_to_registration=overall,
        mean_hours_to_registration=mean,
        daily_volume=daily_volume(conn),
        registered_per_day=registered_per_day(conn),
        leads_retried=retried,
        leads_total=total,
    )
