"""Rows for database tests (synthetic data only: CPFs are sequence numbers, not people)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from kroton_pipeline.db.engine import upsert_rows
from kroton_pipeline.db.models import Subscription


def subscription_row(n: int, **overrides: Any) -> dict[str, Any]:
    """A complete ``subscriptions`` row; ``n`` makes the CPF unique."""
    row: dict[str, Any] = {
        "cpf": f"{n:011d}",
        "user_name": f"Maria Teste {n}",
        "first_name": "maria",
        "gender": "F",
        "birthday": date(1995, 3, 17),
        "email": f"lead{n}@example.com",
        "area_code": "11",
        "phone_number": "975405666",
        "cep": "12243740",
        "street": "Rua das Acácias",
        "number": "100",
        "city": "São José dos Campos",
        "uf": "SP",
        "course_name": "Administração",
        "unit_id": 1234,
        "course_type": "Graduação",
        "modality": "EAD",
        "monthly_price": Decimal("249.90"),
        "capture_period": 20261,
        "system": "COLABORAR",
        "campus": "Centro",
        "import_date": date(2026, 1, 5),
        "row_number": n,
        "attempt_number": 1,
    }
    row.update(overrides)
    return row


def create_subscriptions(
    conn: Connection, count: int, start: int = 1, **overrides: Any
) -> list[int]:
    """Insert ``count`` subscriptions (status to_sync unless overridden); return their ids."""
    rows = [subscription_row(n, **overrides) for n in range(start, start + count)]
    upsert_rows(conn, Subscription, rows, ["cpf", "attempt_number"])
    cpfs = [row["cpf"] for row in rows]
    found = dict(
        conn.execute(
            select(Subscription.cpf, Subscription.id).where(Subscription.cpf.in_(cpfs))
        ).all()
    )
    return [found[cpf] for cpf in cpfs]
