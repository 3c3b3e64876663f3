"""Replay ``register_failed`` leads once their cause is fixed.

``register_failed`` is final for the pipeline, but an operator who fixed the cause (loaded
the names table, corrected the catalog, Kroton fixed a refusal) can send the leads back:
to ``to_sync`` (course search and everything after it again; a gender that stayed unknown
is looked up again) or to ``to_register`` (same two offers, registration only). Every change
goes through the state machine and leaves a ``status_history`` row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, and_, select, update
from sqlalchemy.orm import aliased

from kroton_pipeline.db.models import CourseOption, Subscription
from kroton_pipeline.db.status_changes import not_erased, transition_where
from kroton_pipeline.domain.leads import GENDER_UNKNOWN
from kroton_pipeline.domain.statuses import Status, StatusReason

REPLAY_REASON = StatusReason.REPLAYED.value


@dataclass(frozen=True)
class ReplayResult:
    replayed: int
    to_status: Status


def replay_register_failed(
    engine: Engine,
    import_date: date,
    to_status: Status,
    reason_prefix: str | None,
    run_id: str | None,
) -> ReplayResult:
    """Move the date's ``register_failed`` leads (whose reason starts with ``reason_prefix``,
    or all) back to ``to_status``; ``to_register`` only for leads that have their options.
    Leads whose personal data was erased are never replayed, nor an attempt the person has
    since come back from (a later attempt of the same CPF is the lead now)."""
    if to_status not in (Status.TO_SYNC, Status.TO_REGISTER):
        raise ValueError("register_failed leads go back to to_sync or to_register")
    later = aliased(Subscription)
    conditions = [
        Subscription.import_date == import_date,
        Subscription.status == Status.REGISTER_FAILED.value,
        # An erased person is never sent again, whatever the reason filter says.
        not_erased(),
        Subscription.status_reason.is_distinct_from(StatusReason.PERSONAL_DATA_ERASED.value),
        ~select(later.id)
        .where(later.cpf == Subscription.cpf, later.attempt_number > Subscription.attempt_number)
        .exists(),
    ]
    if reason_prefix:
        conditions.append(Subscription.status_reason.like(f"{reason_prefix}%"))
    if to_status is Status.TO_REGISTER:
        has_options = select(CourseOption.id).where(CourseOption.subscription_id == Subscription.id)
        conditions.append(has_options.exists())
    with engine.begin() as conn:
        if to_status is Status.TO_SYNC:
            # An unknown gender is looked up again by fix_data (the cause may be fixed now).
            conn.execute(
                update(Subscription)
                .where(and_(*conditions), Subscription.gender == GENDER_UNKNOWN)
                .values(gender=None, gender_source=None)
            )
        conn.execute(update(Subscription).where(and_(*conditions)).values(sent_at=None, attempts=0))
        replayed = transition_where(conn, and_(*conditions), to_status, REPLAY_REASON, run_id)
    return ReplayResult(replayed, to_status)
