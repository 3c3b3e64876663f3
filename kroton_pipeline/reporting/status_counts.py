"""Leads per status: the count every asset, report and Slack summary shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine, func, select

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.domain.statuses import Status


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
