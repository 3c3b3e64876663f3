"""The funnel report as markdown sections and plain numbers (Dagster metadata).

Markdown tables, unicode bar charts and an inline PNG all render in the Dagster UI's
metadata panel (checked in headless Chromium, ``scripts/screenshot_funnel.py``); plain
numbers are plotted across materializations in the asset's "Plots" tab.
"""

from __future__ import annotations

from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.reporting.charts import (
    compact_chart,
    compact_legend,
    date_columns,
    markdown_image,
    share_bar,
    status_chart,
)
from kroton_pipeline.reporting.funnel import FunnelReport, GroupConversion
from kroton_pipeline.reporting.markdown_table import markdown_table as table

STATUS_ORDER = [status.value for status in Status]
# Import dates shown in the charts and the per-date tables (the newest ones).
MAX_DATES = 30
MAX_CAMPUSES = 20
# The Dagster UI renders Markdown metadata inline only below 1,000 characters.
INLINE_MARKDOWN_LIMIT = 1000


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h"


def chart_section(report: FunnelReport) -> str:
    """The compact chart, shown inline: as many of the newest days as fit under the UI's
    inline limit; ``chart_leads_by_status`` is one click away with every status."""
    if not report.status_by_import_date:
        return "_no leads yet_"
    text = "_no leads yet_"
    for days in (MAX_DATES, 21, 14, 10, 7, 5, 3, 2, 1):
        columns = date_columns(report.status_by_import_date, days)
        image = markdown_image("Leads per status band", compact_chart(columns))
        text = f"{image}  \n{compact_legend(columns)}; full chart: chart_leads_by_status"
        if len(text) < INLINE_MARKDOWN_LIMIT:
            return text
    return "_see chart_leads_by_status_"


def chart_with_axes_section(report: FunnelReport) -> str:
    """Every status per import date, dated axis and legend (opens with "[Show Markdown]")."""
    columns = date_columns(report.status_by_import_date, MAX_DATES)
    if not columns:
        return "_no leads yet_"
    png = status_chart(columns, STATUS_ORDER, "Leads per status and import date")
    return markdown_image("Leads per status and import date", png)


def status_by_date_section(report: FunnelReport) -> str:
    dates = sorted(report.status_by_import_date)[-MAX_DATES:]
    if not dates:
        return "_no leads yet_"
    used = [
        status
        for status in STATUS_ORDER
        if any(report.status_by_import_date[day].get(status) for day in dates)
    ]
    rows = []
    for day in reversed(dates):
        counts = report.status_by_import_date[day]
        rows.append([day.isoformat(), *(counts.get(s, 0) for s in used), sum(counts.values())])
    return table(["import date", *used, "total"], rows)


def status_counts_section(counts: dict[str, int]) -> str:
    """Leads per status with their share of all leads (bars on a 0–100 % scale)."""
    if not counts:
        return "_no leads created in the period_"
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: [*STATUS_ORDER, kv[0]].index(kv[0]))
    rows = [(s, n, _pct(n / total), share_bar(n / total, 10)) for s, n in ordered if n]
    return table(["status", "leads", "share", "0–100 %"], rows)


def conversion_section(groups: list[GroupConversion], label: str, limit: int | None) -> str:
    """Leads, inscribed, enrolled and conversion per group; bars on a 0–100 % scale."""
    if not groups:
        return "_no leads created in the period_"
    shown = groups[:limit] if limit else groups
    rows = [
        (
            g.name,
            g.total,
            g.inscribed,
            g.enrolled,
            _pct(g.conversion),
            share_bar(g.conversion, 10),
        )
        for g in shown
    ]
    text = table([label, "leads", "inscribed", "enrolled", "conversion", "0–100 %"], rows)
    if limit and len(groups) > limit:
        text += f"\n\n_{len(groups) - limit} more; the full list is in the database._"
    return text


def volume_section(report: FunnelReport) -> str:
    volumes = report.daily_volume[-MAX_DATES:]
    if not volumes:
        return "_no export imported yet_"
    hours = report.hours_to_registration
    rows = [
        (
            v.import_date.isoformat(),
            v.rows_in,
            v.imported,
            v.rejected,
            v.sent,
            v.accepted,
            _duration(hours.get(v.import_date)),
        )
        for v in reversed(volumes)
    ]
    headers = ["date", "rows", "imported", "rejected", "sent", "accepted", "to registration"]
    return table(headers, rows)


def _share(counts: dict[str, int], key: str) -> float | None:
    total = sum(counts.values())
    return counts.get(key, 0) / total if total else None


def summary_section(report: FunnelReport) -> str:
    """Three headline figures, each with what it is made of (two narrow columns)."""
    rows = [
        (
            "registration success rate",
            f"{_pct(report.success_rate)} ({report.accepted} of {report.decided} sent)",
        ),
        (
            "import → registration (median / mean)",
            f"{_duration(report.median_hours_to_registration)} / "
            f"{_duration(report.mean_hours_to_registration)}",
        ),
        (
            "gender unknown, held (NI)",
            f"{report.gender_unknown_held} — genders from the IBGE names: "
            f"{_pct(_share(report.gender_sources, 'ibge'))}",
        ),
        (
            "retry rate",
            f"{_pct(report.retry_rate)} ({report.leads_retried} of {report.leads_total})",
        ),
    ]
    return table(["figure", "value"], rows)


def report_markdown(report: FunnelReport) -> dict[str, str]:
    """Every section of the report, keyed by the metadata label shown in the UI."""
    return {
        "summary": summary_section(report),
        "chart": chart_section(report),
        "chart_leads_by_status": chart_with_axes_section(report),
        "status_by_import_date": status_by_date_section(report),
        "status_last_7_days": status_counts_section(report.status_last_7_days),
        "conversion_by_modality_30_days": conversion_section(report.by_modality, "modality", None),
        "performance_by_campus_7_days": conversion_section(
            report.by_campus, "campus", MAX_CAMPUSES
        ),
        "conversion_by_course_30_days": conversion_section(
            report.by_course, "course", MAX_CAMPUSES
        ),
        "daily_volume": volume_section(report),
    }


def report_numbers(report: FunnelReport) -> dict[str, int | float]:
    """Figures plotted across materializations (ints and floats only)."""
    totals: dict[str, int] = {status: 0 for status in STATUS_ORDER}
    for counts in report.status_by_import_date.values():
        for status, count in counts.items():
            totals[status] = totals.get(status, 0) + count
    enrolled = totals.get(Status.ENROLLED.value, 0)
    numbers: dict[str, int | float] = {
        "leads_total": report.leads_total,
        "import_dates": len(report.status_by_import_date),
        "registration_success_rate": round(report.success_rate or 0.0, 4),
        "conversion_rate": round(enrolled / report.leads_total, 4) if report.leads_total else 0.0,
        "retry_rate": round(report.retry_rate or 0.0, 4),
    }
    if report.median_hours_to_registration is not None:
        numbers["median_hours_import_to_registration"] = report.median_hours_to_registration
    if report.mean_hours_to_registration is not None:
        numbers["mean_hours_import_to_registration"] = report.mean_hours_to_registration
    numbers["gender_unknown_held"] = report.gender_unknown_held
    numbers.update({f"status/{status}": count for status, count in totals.items()})
    return numbers
