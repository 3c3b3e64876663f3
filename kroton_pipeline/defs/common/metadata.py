"""Materialization metadata a person reads at a glance — never with personal data.

Only figures that mean something for the date are shown: zero counts are left out of
tables, and API figures are named for what they count (``kroton/requests``), not for the
client's internal counters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import dagster as dg
from sqlalchemy import Engine, func, select

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.domain.statuses import Status

# Characters Markdown would read as formatting (a masked CPF ``***.914.586-**`` would turn
# bold and lose its asterisks) or as a table border.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(value: object) -> str:
    """``value`` as Markdown that renders literally (in a table cell too)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(value)).replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; cells are escaped, so masked values and reasons show as they are."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def status_counts(engine: Engine, dates: Sequence[date] | None = None) -> dict[str, int]:
    """Subscriptions per status for these import dates, or all (zeros included)."""
    query = select(Subscription.status, func.count()).group_by(Subscription.status)
    if dates is not None:
        query = query.where(Subscription.import_date.in_(list(dates)))
    with engine.connect() as conn:
        found = {str(status): int(count) for status, count in conn.execute(query)}
    return {status.value: found.get(status.value, 0) for status in Status} | {
        key: value for key, value in found.items() if key not in Status.__members__.values()
    }


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


# Client counters (clients/counters.ClientCounters.as_metadata) -> the metadata key suffix.
API_FIGURES = {
    "requests_total": "requests",
    "retries": "retries",
    "rate_limited": "rate_limited_429",
    "budget_waits": "budget_waits",
    "budget_wait_seconds": "budget_wait_seconds",
    "retry_after_wait_seconds": "retry_after_wait_seconds",
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
