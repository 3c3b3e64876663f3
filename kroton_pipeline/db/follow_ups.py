"""Recording what Kroton said about a subscription: follow-up, ids and status, in one place.

Kroton's answer is stored exactly as received (``follow_ups.source``); the ids and the
classification come from the typed view the domain read it into; the status moves through
the state machine (``db.status_changes``), one ``status_history`` row per step.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from kroton_pipeline.db.models import FollowUp, Subscription
from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes
from kroton_pipeline.db.upserts import upsert_rows
from kroton_pipeline.domain.kroton_api import Inscription
from kroton_pipeline.domain.statuses import Status, status_path

log = logging.getLogger(__name__)


def record_kroton_answer(
    conn: Connection,
    subscription: Mapping[str, Any],
    inscription: Inscription,
    status: Status | None,
    source: Any,
    reason: str,
    run_id: str | None,
    now: datetime,
    enrolment_source: Any = None,
) -> Status | None:
    """Store Kroton's answer for ``subscription`` and move its status to ``status``.

    ``inscription`` gives the ids and classification to keep; ``status`` is what the answer
    means (``None``: unknown, the status is kept with a warning). Returns the new status,
    or ``None`` when the status was kept (unmapped, or not a move the machine allows).
    """
    sub_id = subscription["id"]
    upsert_rows(
        conn,
        FollowUp,
        [
            {
                "subscription_id": sub_id,
                "kroton_subscription_id": inscription.inscription_id,
                "kroton_subscription_dealer_id": inscription.dealer_id,
                "source": source,
                "enrolment_source": enrolment_source,
                "created_at": now,
                "updated_at": now,
            }
        ],
        ["subscription_id"],
        update_cols=[
            "kroton_subscription_id",
            "kroton_subscription_dealer_id",
            "source",
            "enrolment_source",
            "updated_at",
        ],
    )
    values: dict[str, Any] = {"last_check": now, "updated_at": now}
    if inscription.inscription_id:
        values["kroton_subscription_id"] = inscription.inscription_id
    if inscription.system:
        values["kroton_system"] = inscription.system
    if inscription.classification:
        values["kroton_classification"] = inscription.classification[:40]
    current = Status(subscription["status"])
    new_status: Status | None = None
    if status is None:
        log.warning(
            "subscription %s: unknown Kroton classification %r, status kept",
            sub_id,
            inscription.classification,
        )
    else:
        path = status_path(current, status)
        if path is None:
            log.warning(
                "subscription %s: Kroton reports %s while the lead is %s; status kept",
                sub_id,
                status,
                current,
            )
        else:
            for step in path:
                apply_status_changes(conn, [StatusChange(sub_id, step, reason)], run_id, now=now)
            new_status = status
            if Status.REGISTERED in path and subscription.get("registered_at") is None:
                values["registered_at"] = now
    conn.execute(update(Subscription).where(Subscription.id == sub_id).values(**values))
    return new_status
