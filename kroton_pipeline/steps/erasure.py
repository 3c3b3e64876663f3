"""LGPD data-subject erasure: anonymise one person's personal data everywhere.

What is erased, for the person's CPF:

- ``subscriptions``: the CPF becomes :func:`erased_cpf` (``"X"`` + the id zero-padded to 11
  characters: unique, never a valid CPF, says nothing about the person); the name becomes
  ``"ERASED"``; first name, birth date, e-mail, phone, CEP, street, number and city are
  emptied; status reason and last error are scrubbed of anything personal.
  Kept: status, import date, course, campus, UF, gender, Kroton's inscription id and every
  timestamp, so the funnel and the reports still add up.
- ``follow_ups.source`` and ``follow_up_snapshots.source`` (Kroton's answers): personal keys
  removed, every other text scrubbed.
- ``status_history.reason``: scrubbed.
- ``lead_rejections`` of that CPF (any import date): CPF and raw row removed; reason, row
  number, detail (never personal) and import date kept, so rows in = imported + rejected
  still holds.

A lead the pipeline had not finished with (``to_sync``, ``course_failed``, ``to_register``)
cannot be sent to Kroton any more: it moves to ``register_failed`` with reason
``personal_data_erased``. A tracked lead stops being followed by CPF (its tracking ends the
way it ends after 120 days); a pending inscription is still polled by Kroton's id, which
carries no personal data.

A keyed digest of the CPF goes to ``erased_people`` so that a later export naming the person
is refused (``erased_on_request``) instead of bringing them back. The CPF itself is never
logged nor returned; the erasure is recorded by the Dagster run that
performs it (subscription id and time, see ``defs/privacy``). Erasing twice is harmless.
"""

from __future__ import annotations

import getpass
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from kroton_pipeline.db.engine import upsert_rows
from kroton_pipeline.db.models import (
    ErasedPerson,
    FollowUp,
    FollowUpSnapshot,
    LeadRejection,
    StatusHistory,
    Subscription,
)
from kroton_pipeline.db.status_changes import (
    DEFAULT_TTL_SECONDS,
    LeadClaims,
    StatusChange,
    apply_status_changes,
    new_owner,
)
from kroton_pipeline.domain.erased import ERASED_NAME, erased_cpf, scrub_document

# is_erased is read from here by the import asset.
from kroton_pipeline.domain.erased import is_erased as is_erased
from kroton_pipeline.domain.erasure_digest import cpf_digest
from kroton_pipeline.domain.leads import cpf_digits, scrub
from kroton_pipeline.domain.statuses import TRACKED, WAITING_TO_BE_SENT, Status, StatusReason
from kroton_pipeline.settings import utcnow

log = logging.getLogger(__name__)

ERASED_REASON = StatusReason.PERSONAL_DATA_ERASED.value
PERSONAL_COLUMNS: dict[str, Any] = {
    "user_name": ERASED_NAME,
    "first_name": None,
    "birthday": None,
    "email": None,
    "area_code": None,
    "phone_number": None,
    "cep": None,
    "street": None,
    "number": None,
    "city": None,
}


class PersonNotFound(LookupError):
    """No subscription or rejection holds that id (the message names the id only)."""


@dataclass
class ErasureResult:
    """What one erasure changed; holds no personal data."""

    subscription_id: int | None
    erased_at: datetime
    follow_ups: int = 0
    snapshots: int = 0
    history_rows: int = 0
    rejections: int = 0
    closed_status: str | None = None
    tables: dict[str, int] = field(default_factory=dict)


def _scrub_text(text: str | None) -> str | None:
    return None if text is None else scrub(text)


def _erase_subscription(
    conn: Connection, row: Any, run_id: str | None, now: datetime, result: ErasureResult
) -> None:
    sub_id = row.id
    status = Status(row.status)
    if status in WAITING_TO_BE_SENT:
        change = StatusChange(sub_id, Status.REGISTER_FAILED, ERASED_REASON)
        apply_status_changes(conn, [change], run_id, now=now)
        result.closed_status = status.value
    values: dict[str, Any] = {
        **PERSONAL_COLUMNS,
        "cpf": erased_cpf(sub_id),
        "updated_at": now,
    }
    if status not in WAITING_TO_BE_SENT:  # else the status change just reset both
        values["status_reason"] = _scrub_text(row.status_reason)
        values["last_error"] = _scrub_text(row.last_error)
    if status in TRACKED:  # never looked up by CPF again: tracking ends
        values.update(next_check_on=None, last_check=row.last_check or now)
    conn.execute(update(Subscription).where(Subscription.id == sub_id).values(**values))

    for model, counter in ((FollowUp, "follow_ups"), (FollowUpSnapshot, "snapshots")):
        rows = conn.execute(
            select(model.id, model.source).where(model.subscription_id == sub_id)
        ).all()
        for doc_id, source in rows:
            conn.execute(
                update(model).where(model.id == doc_id).values(source=scrub_document(source))
            )
        setattr(result, counter, len(rows))
    conn.execute(
        update(FollowUp).where(FollowUp.subscription_id == sub_id).values(enrolment_source=None)
    )
    history = conn.execute(
        select(StatusHistory.id, StatusHistory.reason).where(
            StatusHistory.subscription_id == sub_id
        )
    ).all()
    for history_id, reason in history:
        conn.execute(
            update(StatusHistory)
            .where(StatusHistory.id == history_id)
            .values(reason=_scrub_text(reason))
        )
    result.history_rows = len(history)


class ErasureBlocked(RuntimeError):
    """Another run kept holding one of the person's leads longer than the erasure waits."""


def erase_person(
    engine: Engine,
    cpf: str,
    run_id: str | None,
    *,
    keys: Sequence[bytes],
    claim_ttl_seconds: float = DEFAULT_TTL_SECONDS,
    wait_seconds: float | None = None,
) -> ErasureResult:
    """Anonymise every record of the person with ``cpf``, in one transaction.

    Each of the person's subscriptions is claimed first (``db.status_changes``), waiting while a run
    registering or following it holds it (a dead run's claim expires): once the erasure
    commits, nothing more is sent to Kroton about the person. ``keys`` are the erasure keys
    (``settings.erasure_keys``; the first digests this erasure). Raises
    :class:`PersonNotFound` when nothing holds that CPF (the message has no CPF).
    """
    digits = cpf_digits(cpf) or str(cpf).strip()
    with engine.connect() as conn:
        sub_ids = list(
            conn.execute(
                select(Subscription.id).where(Subscription.cpf == digits).order_by(Subscription.id)
            ).scalars()
        )
        rejection_ids = (
            conn.execute(select(LeadRejection.id).where(LeadRejection.cpf == digits))
            .scalars()
            .all()
        )
    if not sub_ids and not rejection_ids:
        raise PersonNotFound("no subscription or rejected row holds that CPF")
    claims = LeadClaims(engine, new_owner(run_id), claim_ttl_seconds)
    held: list[int] = []
    try:
        for sub_id in sub_ids:
            if claims.wait_and_take(sub_id, timeout_seconds=wait_seconds) is None:
                raise ErasureBlocked(
                    f"subscription {sub_id} stayed claimed by another run; retry the erasure"
                )
            held.append(sub_id)
        now = utcnow()
        result = ErasureResult(sub_ids[-1] if sub_ids else None, now)
        with engine.begin() as conn:
            for sub_id in held:
                claims.require(sub_id, conn)
            rows = conn.execute(select(Subscription).where(Subscription.id.in_(held))).all()
            for row in rows:
                _erase_subscription(conn, row, run_id, now, result)
            if rejection_ids:
                conn.execute(
                    update(LeadRejection)
                    .where(LeadRejection.id.in_(rejection_ids))
                    .values(cpf=None, raw=None)
                )
            result.rejections = len(rejection_ids)
            # Remembered (as a keyed digest, never the CPF) so a later export is refused.
            upsert_rows(
                conn, ErasedPerson, [{"cpf_digest": cpf_digest(digits, keys[0]), "erased_at": now}],
                ["cpf_digest"], update_cols=[],
            )  # fmt: skip
    finally:
        for sub_id in held:
            claims.release(sub_id)
    result.tables = {
        "subscriptions": len(held),
        "follow_ups": result.follow_ups,
        "follow_up_snapshots": result.snapshots,
        "status_history": result.history_rows,
        "lead_rejections": result.rejections,
    }
    log.info(
        "erased personal data of subscription %s (%d rejected rows)",
        result.subscription_id,
        result.rejections,
    )
    return result


def cpf_of(
    engine: Engine, subscription_id: int | None = None, rejection_id: int | None = None
) -> str:
    """The CPF held by a subscription or a rejected row, for :func:`erase_person`.

    Lets an operator name the person by id, so the CPF never enters run configuration.
    """
    with engine.connect() as conn:
        if subscription_id is not None:
            cpf = conn.execute(
                select(Subscription.cpf).where(Subscription.id == subscription_id)
            ).scalar()
            name = f"subscription {subscription_id}"
        else:
            cpf = conn.execute(
                select(LeadRejection.cpf).where(LeadRejection.id == rejection_id)
            ).scalar()
            name = f"rejected row {rejection_id}"
    if cpf is None:
        raise PersonNotFound(f"{name} does not exist or holds no CPF")
    return str(cpf)


def find_person(engine: Engine, cpf: str) -> tuple[int | None, list[int]]:
    """(subscription id, rejected row ids) holding ``cpf``: what an operator passes to the job."""
    digits = cpf_digits(cpf) or cpf.strip()
    with engine.connect() as conn:
        sub_id = conn.execute(select(Subscription.id).where(Subscription.cpf == digits)).scalar()
        rejections = (
            conn.execute(select(LeadRejection.id).where(LeadRejection.cpf == digits))
            .scalars()
            .all()
        )
    return sub_id, list(rejections)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kroton_pipeline.steps.erasure``: which ids to erase for a CPF.

    The CPF is typed at a prompt (not an argument: it would stay in the shell history) and
    the answer is the id to give the ``erase_personal_data`` job.
    """
    from kroton_pipeline.db.engine import make_engine
    from kroton_pipeline.settings import load_settings

    del argv
    engine = make_engine(load_settings().database_url)
    sub_id, rejections = find_person(engine, getpass.getpass("CPF of the data subject: "))
    if sub_id is None and not rejections:
        print("No subscription or rejected row holds that CPF.")
        return 1
    if sub_id is not None:
        print(f"subscription_id: {sub_id}")
    else:
        print(f"rejection_id: {rejections[0]}  (no subscription; {len(rejections)} rejected rows)")
    print("Run the erase_personal_data job with that id in its config.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
