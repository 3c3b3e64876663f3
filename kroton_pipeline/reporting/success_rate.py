"""The registration success rate (one definition for the asset check, the funnel report and
the Slack alert), and the time from import to registration.

Of the leads sent to Kroton, the share Kroton accepted. Sent = accepted (awaiting_register,
registered, enrolled, dropped) + refused by Kroton (``register_failed`` with reason
``kroton_rejected``) + failed in Kroton's processing (``failed``). Leads that never reached
Kroton (gender unknown, invalid payload, erased) are a data-quality matter, counted apart.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, func, select

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.domain.statuses import Status, StatusReason

ACCEPTED = (Status.AWAITING_REGISTER, Status.REGISTERED, Status.ENROLLED, Status.DROPPED)


@dataclass(frozen=True)
class SuccessRate:
    """Accepted, sent and never-sent leads; ``rate`` is accepted ÷ sent (None: none sent)."""

    accepted: int = 0
    sent: int = 0
    never_sent: int = 0

    @property
    def rate(self) -> float | None:
        return self.accepted / self.sent if self.sent else None


def registration_success(conn: Connection, dates: Sequence[date] | None = None) -> SuccessRate:
    """The success rate of the leads of ``dates`` (every lead when ``None``)."""
    accepted_values = [status.value for status in ACCEPTED]
    refused = Subscription.status_reason.like(f"{StatusReason.KROTON_REJECTED.value}%")
    conditions = [
        Subscription.status.in_(
            [*accepted_values, Status.REGISTER_FAILED.value, Status.FAILED.value]
        )
    ]
    if dates is not None:
        conditions.append(Subscription.import_date.in_(list(dates)))
    query = (
        select(Subscription.status, refused, func.count())
        .where(*conditions)
        .group_by(Subscription.status, refused)
    )
    accepted = sent = never_sent = 0
    for status, refused_by_kroton, count in conn.execute(query):
        if status in accepted_values:
            accepted += count
            sent += count
        elif status == Status.FAILED.value or refused_by_kroton:
            sent += count
        else:
            never_sent += count
    return SuccessRate(accepted, sent, never_sent)


def median_hours_to_registration(
    conn: Connection, dates: Sequence[date] | None = None
) -> float | None:
    """Median hours from import (``created_at``) to registration of the dates' leads."""
    query = select(Subscription.created_at, Subscription.registered_at).where(
        Subscription.registered_at.is_not(None)
    )
    if dates is not None:
        query = query.where(Subscription.import_date.in_(list(dates)))
    hours = [
        max((registered - created).total_seconds(), 0) / 3600
        for created, registered in conn.execute(query)
    ]
    return round(statistics.median(hours), 2) if hours else None
