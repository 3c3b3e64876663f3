"""What registrations will ask of today's Kroton budget, read from the database."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, func, select

from kroton_pipeline.db.models import ImportFile, Subscription
from kroton_pipeline.domain.budget_plan import CALLS_PER_NEW_LEAD
from kroton_pipeline.domain.statuses import WAITING_TO_BE_SENT

TRAILING_DAYS = 7


def waiting_to_be_sent(engine: Engine) -> int:
    """Leads of every import date that still wait to be sent to Kroton."""
    with engine.connect() as conn:
        query = select(func.count()).where(
            Subscription.status.in_([s.value for s in WAITING_TO_BE_SENT])
        )
        return int(conn.execute(query).scalar_one())


def registration_demand(engine: Engine, today: date) -> float:
    """Kroton requests registrations will need today.

    The leads already waiting to be sent, plus a day's intake (the mean of the trailing
    7 days' imports, since today's export may not have landed yet), at about two requests
    each (look-up + POST).
    """
    waiting = waiting_to_be_sent(engine)
    with engine.connect() as conn:
        intake = conn.execute(
            select(func.coalesce(func.sum(ImportFile.imported), 0)).where(
                ImportFile.import_date < today,
                ImportFile.import_date >= today - timedelta(days=TRAILING_DAYS),
            )
        ).scalar_one()
    return (waiting + int(intake) / TRAILING_DAYS) * CALLS_PER_NEW_LEAD
