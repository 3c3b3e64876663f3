"""Recording what Kroton said about a subscription: follow-up, ids and status, in one place."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from kroton_pipeline.db.models import FollowUp, Subscription
from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes
from kroton_pipeline.db.upserts import upsert_rows
from kroton_pipeline.domain.statuses import Status, is_allowed
from kroton_pipeline.steps.kroton_answers import KrotonView

log = logging.getLogger(__name__)


def status_path(current: Status, target: Status) -> list[Status] | None:
    """The status changes that take a subscription from ``current`` to ``target``.

    ``[]`` when nothing changes; ``None`` when Kroton's answer does not fit the state
    machine (for example a processed lead reported as pending again): the caller keeps the
    status and warns. A pending inscription that Kroton already classified goes through
    ``registered`` so the history shows both steps.
    """
    if current == target:
        return []
    if is_allowed(current, target):
        return [target]
    if current is Status.AWAITING_REGISTER and is_allowed(Status.REGISTERED, target):
        return [Status.REGISTERED, target]
    return None


def record_view(
    conn: Connection,
    subscription: dict[str, Any],
    view: KrotonView,
    source: dict[str, Any],
    reason: str,
    run_id: str | None,
    now: datetime,
) -> Status | None:
    """Store Kroton's answer for ``subscription`` and move its status to what it says.

    Returns the new status, or ``None`` when the status was kept (unmapped or unexpected).
    """
    sub_id = subscription["id"]
    upsert_rows(
        conn,
        FollowUp,
        [
            {
                "subscription_id": sub_id,
                "kroton_subscription_id": view.inscription_id,
                "kroton_subscription_dealer_id": view.dealer_id,
                "source": source,
                "created_at": now,
                "updated_at": now,
            }
        ],
        ["subscription_id"],
        update_cols=[
            "kroton_subscription_id",
            "kroton_subscription_dealer_id",
            "source",
            "updated_at",
        ],
    )
    values: dict[str, Any] = {"last_check": now, "updated_at": now}
    if view.inscription_id:
        values["kroton_subscription_id"] = view.inscription_id
    if view.system:
        values["kroton_system"] = view.system
    if view.classification:
        values["kroton_classification"] = view.classification
    current = Status(subscription["status"])
    new_status: Status | None = None
    if view.status is None:
        log.warning(
            "subscription %s: unknown Kroton classification %r, status kept",
            sub_id,
            view.classification,
        )
    else:
        path = status_path(current, view.status)
        if path is None:
            log.warning(
                "subscription %s: Kroton reports %s while the lead is %s; status kept",
                sub_id,
                view.status,
                current,
            )
        else:
            for step in path:
                apply_status_changes(conn, [StatusChange(sub_id, step, reason)], run_id, now=now)
            new_status = view.status
            if Status.REGISTERED in path and subscription.get("registered_at") is None:
                values["registered_at"] = now
    conn.execute(update(Subscription).where(Subscription.id == sub_id).values(**values))
    return new_status
