"""Materialization metadata a person reads at a glance — never with personal data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import dagster as dg
from sqlalchemy import Engine, func, select

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.domain.masking import mask_cpf
from kroton_pipeline.domain.statuses import Status


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
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
    """Counts per status as a table plus one number per status (plotted over time)."""
    metadata: dict[str, Any] = {
        "status_counts": dg.MetadataValue.md(
            markdown_table(["status", "leads"], [(k, v) for k, v in counts.items() if v])
            if any(counts.values())
            else "_no leads_"
        )
    }
    metadata.update({f"status/{key}": dg.MetadataValue.int(value) for key, value in counts.items()})
    return metadata


def counts_table(title: str, counts: Mapping[str, int]) -> dg.MetadataValue:
    if not counts:
        return dg.MetadataValue.md("_none_")
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dg.MetadataValue.md(markdown_table([title, "count"], rows))


def masked_sample(engine: Engine, dates: Sequence[date], size: int = 5) -> dg.MetadataValue:
    """A few leads of the partition with masked CPF and no other personal data."""
    query = (
        select(
            Subscription.id,
            Subscription.cpf,
            Subscription.status,
            Subscription.course_name,
            Subscription.campus,
            Subscription.status_reason,
        )
        .where(Subscription.import_date.in_(list(dates)))
        .order_by(Subscription.id)
        .limit(size)
    )
    with engine.connect() as conn:
        rows = [
            (sub_id, mask_cpf(cpf), status, course, campus, (reason or "")[:60])
            for sub_id, cpf, status, course, campus, reason in conn.execute(query)
        ]
    headers = ["id", "cpf", "status", "course", "campus", "reason"]
    return dg.MetadataValue.md(markdown_table(headers, rows) if rows else "_no leads_")


def api_metadata(counters: Mapping[str, Any] | None, leads: int, prefix: str) -> dict[str, Any]:
    """API calls spent, budget waited and calls per lead, from a client's counters."""
    if not counters:
        return {}
    metadata: dict[str, Any] = {}
    for key, value in counters.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        metadata[f"{prefix}/{key}"] = (
            dg.MetadataValue.int(value) if isinstance(value, int) else dg.MetadataValue.float(value)
        )
    # Client counters name it "<system>.requests_total" (clients/counters.as_metadata).
    requests = next(
        (value for key, value in counters.items() if key.split(".")[-1] == "requests_total"),
        None,
    )
    if isinstance(requests, int) and leads:
        metadata[f"{prefix}/calls_per_lead"] = dg.MetadataValue.float(round(requests / leads, 3))
    return metadata
