"""Materialization metadata a person reads at a glance — never with personal data.

Only figures that mean something for the date are shown: zero counts are left out of
tables, and API figures are named for what they count (``kroton/requests``), not for the
client's internal counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from kroton_pipeline.clients.transport import API_FIGURES
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
