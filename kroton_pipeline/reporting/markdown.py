"""The funnel report as markdown sections and plain numbers (Dagster metadata).

Markdown tables, unicode bar charts and an inline PNG all render in the Dagster UI's
metadata panel (checked in headless Chromium, ``scripts/screenshot_funnel.py``); plain
numbers are plotted across materializations in the asset's "Plots" tab.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.reporting.charts import (
    STATUS_EMOJI,
    compact_stacked_bars,
    markdown_image,
    stacked_bar_chart,
    unicode_bar,
)
from kroton_pipeline.reporting.funnel import FunnelReport, GroupConversion

STATUS_ORDER = [status.value for status in Status]
# Import dates shown in the chart and the per-date tables (the newest ones).
MAX_DATES = 30
MAX_CAMPUSES = 20


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h"


# The Dagster UI renders markdown metadata inline only below 1,000 characters.
INLINE_MARKDOWN_LIMIT = 1000


def _chart_columns(report: FunnelReport, count: int) -> list[tuple[str, dict[str, int]]]:
    dates = sorted(report.status_by_import_date)[-count:]
    return [(day.isoformat(), report.status_by_import_date[day]) for day in dates]


def chart_section(report: FunnelReport) -> str:
    """Leads per status per import date as an inline PNG with an emoji legend.

    As many of the newest import dates as fit under the UI's inline limit (at most 30);
    ``chart_with_axes`` has the labelled version.
    """
    if not report.status_by_import_date:
        return "_no leads yet_"
    text = ""
    for count in (MAX_DATES, 21, 14, 10, 7, 5, 3, 2, 1):
        columns = _chart_columns(report, count)
        used = [s for s in STATUS_ORDER if any(counts.get(s) for _, counts in columns)]
        top = max(sum(counts.values()) for _, counts in columns)
        legend = " ".join(f"{STATUS_EMOJI.get(s, '▪')} {s}" for s in used)
        image = markdown_image("Leads per status", compact_stacked_bars(columns, STATUS_ORDER))
        text = f"{image}\n\n{columns[0][0]} → {columns[-1][0]}, tallest {top} leads  \n{legend}"
        if len(text) < INLINE_MARKDOWN_LIMIT:
            break
    return text


def chart_with_axes_section(report: FunnelReport) -> str:
    """The same chart with axes, labels and legend drawn in (opens with "[Show Markdown]")."""
    columns = [
        (day.strftime("%m-%d"), report.status_by_import_date[day])
        for day in sorted(report.status_by_import_date)[-MAX_DATES:]
    ]
    if not columns:
        return "_no leads yet_"
    png = stacked_bar_chart("leads per status and import date", columns, STATUS_ORDER)
    return markdown_image("Leads per status and import date, with axes", png)


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
    if not counts:
        return "_no leads created in the period_"
    top = max(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: [*STATUS_ORDER, kv[0]].index(kv[0]))
    return table(["status", "leads", ""], [(s, n, unicode_bar(n, top)) for s, n in ordered])


def conversion_section(groups: list[GroupConversion], label: str, limit: int | None) -> str:
    if not groups:
        return "_no leads created in the period_"
    shown = groups[:limit] if limit else groups
    top = max(group.conversion for group in shown) or 1.0
    rows = [
        (
            g.name,
            g.total,
            g.inscribed,
            g.enrolled,
            _pct(g.conversion),
            unicode_bar(g.conversion, top),
        )
        for g in shown
    ]
    text = table([label, "leads", "inscribed", "enrolled", "conversion", ""], rows)
    if limit and len(groups) > limit:
        text += f"\n\n_{len(groups) - limit} more; the full list is in the database._"
    return text


def volume_section(report: FunnelReport) -> str:
    volumes = report.daily_volume[-MAX_DATES:]
    if not volumes:
        return "_no export imported yet_"
    top = max(v.rows_in for v in volumes) or 1
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
            unicode_bar(v.rows_in, top, 16),
        )
        for v in reversed(volumes)
    ]
    headers = [
        "import date",
        "rows exported",
        "imported",
        "rejected",
        "sent to Kroton",
        "accepted",
        "median time to registration",
        "",
    ]
    return table(headers, rows)


def summary_section(report: FunnelReport) -> str:
    rows = [
        (
            "registration success rate",
            _pct(report.success_rate),
            f"{report.accepted} accepted of {report.decided} decided",
        ),
        (
            "median import → registration",
            _duration(report.median_hours_to_registration),
            "created_at → registered_at",
        ),
        (
            "retry rate",
            _pct(report.retry_rate),
            f"{report.leads_retried} of {report.leads_total} leads needed another try",
        ),
    ]
    return table(["figure", "value", "from"], rows)


def report_markdown(report: FunnelReport) -> dict[str, str]:
    """Every section of the report, keyed by the metadata label shown in the UI."""
    return {
        "summary": summary_section(report),
        "chart_status_by_import_date": chart_section(report),
        "chart_with_axes": chart_with_axes_section(report),
        "status_by_import_date": status_by_date_section(report),
        "status_last_7_days": status_counts_section(report.status_last_7_days),
        "conversion_by_modality_30_days": conversion_section(report.by_modality, "modality", None),
        "performance_by_campus_7_days": conversion_section(
            report.by_campus, "campus", MAX_CAMPUSES
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
    numbers.update({f"status/{status}": count for status, count in totals.items()})
    return numbers
