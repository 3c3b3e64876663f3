"""Each alert is sent once when it starts and once when it clears.

The state of every alert lives in the ``alert_states`` table of the project database, so
every sensor, process and daemon restart agrees on it. :func:`record_alert` reads and
writes it in one transaction with the row locked, so two evaluations of the same alert at
once cannot both announce it.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Engine, select, update

from kroton_pipeline.db.alert_models import AlertState
from kroton_pipeline.db.engine import upsert_rows
from kroton_pipeline.notifications.alerts import AlertCondition
from kroton_pipeline.settings import utcnow


class Transition(StrEnum):
    STARTED = "started"
    CLEARED = "cleared"


def record_alert(
    engine: Engine, condition: AlertCondition, run_id: str | None
) -> Transition | None:
    """Store the condition's latest value; say whether it just started or just cleared."""
    table = AlertState.__table__
    now = utcnow()
    with engine.begin() as conn:
        upsert_rows(conn, table, [{"key": condition.key, "active": False}], ["key"], [])
        was_active = conn.execute(
            select(table.c.active).where(table.c.key == condition.key).with_for_update()
        ).scalar_one()
        values: dict[str, object] = {
            "active": condition.active,
            "value": condition.value,
            "detail": condition.detail,
            "last_run_id": run_id,
            "updated_at": now,
        }
        transition = None
        if condition.active and not was_active:
            values["started_at"] = now
            transition = Transition.STARTED
        elif was_active and not condition.active:
            values["cleared_at"] = now
            transition = Transition.CLEARED
        conn.execute(update(table).where(table.c.key == condition.key).values(**values))
    return transition


def open_alerts(engine: Engine) -> list[str]:
    """Keys of the alerts that are active now."""
    table = AlertState.__table__
    with engine.connect() as conn:
        return list(
            conn.execute(select(table.c.key).where(table.c.active).order_by(table.c.key)).scalars()
        )
