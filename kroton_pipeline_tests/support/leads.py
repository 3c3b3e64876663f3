"""Leads with a known story, written the way the pipeline writes them (synthetic people).

Each lead is created as the import creates it (a subscription plus its first
``status_history`` row) and moved through the state machine (``db.status_changes``) on a
clock the test controls, with the course options, Kroton answers and rejected export rows
the steps would have recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from kroton_pipeline.db.models import (
    CourseOption,
    FollowUp,
    FollowUpSnapshot,
    LeadRejection,
    Subscription,
)
from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes, record_created
from kroton_pipeline.domain.leads import format_cpf
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline_tests.cpfs import make_cpf
from kroton_pipeline_tests.db.factories import subscription_row

IMPORT_DATE = date(2026, 11, 28)
IMPORTED_AT = datetime(2026, 11, 28, 13, 0)  # naive UTC, 10:00 in São Paulo
STEP = timedelta(minutes=5)


def valid_cpf(n: int) -> str:
    """A CPF with correct check digits made from ``n`` (not anyone's, as far as we know)."""
    return make_cpf((n * 7919 + 123456789) % 10**9)


def personal_values(lead: dict[str, Any]) -> list[str]:
    """Every form in which a lead's personal data could leak into a text."""
    birthday: date = lead["birthday"]
    return [
        lead["cpf"],
        format_cpf(lead["cpf"]),
        lead["user_name"],
        lead["user_name"].split()[0],
        lead["email"],
        lead["phone_number"],
        f"{lead['area_code']}{lead['phone_number']}",
        birthday.isoformat(),
        birthday.strftime("%d/%m/%Y"),
        lead["street"],
    ]


def assert_no_personal_data(text: str, *leads: dict[str, Any]) -> None:
    for lead in leads:
        for value in personal_values(lead):
            assert value not in text, f"personal data of subscription {lead['id']} shown"


@dataclass
class LeadBook:
    """Writes leads on ``conn``; ``n`` numbers the people."""

    conn: Connection

    def lead(
        self,
        n: int,
        *moves: tuple[Status, str],
        at: datetime = IMPORTED_AT,
        import_date: date = IMPORT_DATE,
        run_id: str = "run-import",
        **overrides: Any,
    ) -> int:
        """A lead imported at ``at`` and moved through ``moves`` (status, reason), one
        ``STEP`` apart."""
        row = {**self.person(n), "import_date": import_date, "created_at": at, "updated_at": at}
        row.update(overrides)
        inserted = self.conn.execute(insert(Subscription).returning(Subscription.id), row)
        sub_id = int(inserted.scalar_one())
        record_created(self.conn, [sub_id], run_id, now=at)
        when = at
        for status, why in moves:
            when += STEP
            apply_status_changes(self.conn, [StatusChange(sub_id, status, why)], f"run-{n}", when)
        return sub_id

    @staticmethod
    def person(n: int) -> dict[str, Any]:
        """Person ``n``'s exported row (a valid CPF, a name, e-mail and phone of their own)."""
        return subscription_row(
            n,
            cpf=valid_cpf(n),
            user_name=f"Joana Exemplo{n} Silva",
            email=f"joana.exemplo{n}@example.com",
            phone_number=f"9{n:08d}",
        )

    def set(self, sub_id: int, **values: Any) -> None:
        self.conn.execute(update(Subscription).where(Subscription.id == sub_id).values(**values))

    def row(self, sub_id: int) -> dict[str, Any]:
        found = self.conn.execute(select(Subscription).where(Subscription.id == sub_id))
        return dict(found.mappings().one())

    def options(self, sub_id: int, at: datetime = IMPORTED_AT + STEP) -> None:
        for rank, ends in ((1, "2026-12-20"), (2, "2027-01-15")):
            offer = {
                "id": f"offer-{sub_id}-{rank}",
                "dsCurso": "Administração",
                "nmCampus": f"Campus {rank}",
                "nmUnidade": "Anhanguera Campinas",
                "dsTurno": "Noite",
                "dtTerminoInscricao": ends,
            }
            self.conn.execute(
                insert(CourseOption),
                {
                    "subscription_id": sub_id,
                    "rank": rank,
                    "offer_id": offer["id"],
                    "offer": offer,
                    "query": {"bool": {}},
                    "searched_at": at,
                },
            )

    def answer(self, sub_id: int, source: Any, at: datetime, kroton_id: str | None) -> None:
        self.conn.execute(
            insert(FollowUp),
            {
                "subscription_id": sub_id,
                "kroton_subscription_id": kroton_id,
                "source": source,
                "created_at": at,
                "updated_at": at,
            },
        )

    def snapshot(self, sub_id: int, day: date, classification: str, status: Status) -> None:
        self.conn.execute(
            insert(FollowUpSnapshot),
            {
                "subscription_id": sub_id,
                "snapshot_date": day,
                "classification": classification,
                "processing_status": "SUCCESS",
                "internal_status": status.value,
                "source": {"inscricaoId": "7001", "classificacao": {"descricao": classification}},
                "created_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=10),
            },
        )

    def rejection(
        self, n: int, day: date, row_number: int, reason: str, detail: str | None = None
    ) -> None:
        person = self.person(n)
        self.conn.execute(
            insert(LeadRejection),
            {
                "import_date": day,
                "row_number": row_number,
                "reason": reason,
                "detail": detail,
                "cpf": person["cpf"],
                "raw": {key: str(value) for key, value in person.items()},
                "created_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=13),
            },
        )
