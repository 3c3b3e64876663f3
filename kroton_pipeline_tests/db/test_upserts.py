"""Bulk upserts insert new rows, update existing ones, and never hit a parameter limit."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from kroton_pipeline.db import engine as upserts
from kroton_pipeline.db.engine import upsert_rows
from kroton_pipeline.db.models import Name, Subscription
from kroton_pipeline_tests.db.factories import subscription_row

# A subscription is one attempt of a CPF.
KEY = ["cpf", "attempt_number"]


def _names(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Subscription.cpf, Subscription.user_name)).all())


def test_upsert_inserts_then_updates_by_conflict_key(engine: Engine) -> None:
    with engine.begin() as conn:
        assert upsert_rows(conn, Subscription, [subscription_row(n) for n in (1, 2)], KEY) == 2
    with engine.begin() as conn:
        rows = [subscription_row(2, user_name="Novo Nome"), subscription_row(3)]
        assert upsert_rows(conn, Subscription, rows, KEY, ["user_name"]) == 2
    names = _names(engine)
    assert len(names) == 3
    assert names[f"{2:011d}"] == "Novo Nome"


def test_update_cols_leave_other_columns_alone(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert_rows(conn, Subscription, [subscription_row(1)], KEY)
        upsert_rows(
            conn,
            Subscription,
            [subscription_row(1, city="Campinas", user_name="B")],
            KEY,
            ["user_name"],
        )
        row = conn.execute(select(Subscription.city, Subscription.user_name)).one()
    assert tuple(row) == ("São José dos Campos", "B")


def test_empty_update_cols_insert_only_new_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert_rows(conn, Subscription, [subscription_row(1)], KEY)
        written = upsert_rows(
            conn,
            Subscription,
            [subscription_row(1, user_name="X"), subscription_row(2)],
            KEY,
            [],
        )
    assert written == 1
    assert _names(engine)[f"{1:011d}"] == "Maria Teste 1"


def test_update_refreshes_updated_at(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert_rows(conn, Subscription, [subscription_row(1)], KEY)
        conn.execute(Subscription.__table__.update().values(updated_at=func.date("2000-01-01")))
    with engine.begin() as conn:
        upsert_rows(
            conn,
            Subscription,
            [subscription_row(1, user_name="Y")],
            KEY,
            ["user_name"],
        )
        updated_at = conn.execute(select(Subscription.updated_at)).scalar_one()
    assert updated_at.year > 2000


def test_rows_sharing_a_key_collapse_to_the_last(engine: Engine) -> None:
    rows = [subscription_row(1, user_name="Primeiro"), subscription_row(1, user_name="Último")]
    with engine.begin() as conn:
        assert upsert_rows(conn, Subscription, rows, KEY) == 1
    assert _names(engine) == {f"{1:011d}": "Último"}


def test_many_rows_are_written_in_chunks(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upserts, "CHUNK_ROWS", 700)
    rows = [subscription_row(n) for n in range(3_000)]
    with engine.begin() as conn:
        assert upsert_rows(conn, Subscription, rows, KEY) == 3_000
    assert len(_names(engine)) == 3_000


def test_names_upsert_with_a_mapped_class_and_nulls(engine: Engine) -> None:
    row = {
        "first_name": "ana",
        "classification": "F",
        "frequency_female": 10,
        "frequency_male": None,
        "frequency_total": 10,
        "ratio": 1.0,
        "alternative_names": None,
    }
    with engine.begin() as conn:
        upsert_rows(conn, Name, [row], ["first_name"])
        upsert_rows(conn, Name.__table__, [{**row, "frequency_female": 12}], ["first_name"])
        assert conn.execute(select(Name.frequency_female, Name.frequency_male)).one() == (12, None)


def test_nothing_to_write_is_a_no_op(engine: Engine) -> None:
    with engine.begin() as conn:
        assert upsert_rows(conn, Subscription, [], KEY) == 0


def test_insert_returning_ids_keeps_nulls_empty_strings_and_awkward_text(engine: Engine) -> None:
    awkward = 'Rua "A", nº 5\nfundos \\N'
    rows = [
        subscription_row(1, street=awkward, campus=None, address_issue="", address_defaulted=True),
        subscription_row(
            2, street="", campus="Centro", address_issue=None, address_defaulted=False
        ),
    ]
    with engine.begin() as conn:
        ids = upserts.insert_returning_ids(conn, Subscription, rows, "cpf")
    with engine.connect() as conn:
        stored = {
            row.cpf: row
            for row in conn.execute(
                select(
                    Subscription.id, Subscription.cpf, Subscription.street, Subscription.campus,
                    Subscription.address_issue, Subscription.address_defaulted,
                    Subscription.birthday, Subscription.monthly_price,
                )
            )
        }  # fmt: skip
    first, second = (
        stored[rows[0]["cpf"]],
        stored[rows[1]["cpf"]],
    )
    assert ids == [first.id, second.id]
    assert first.street == awkward and first.campus is None and first.address_issue == ""
    assert first.address_defaulted is True and second.address_defaulted is False
    assert second.street == "" and second.campus == "Centro"
    assert first.birthday == rows[0]["birthday"]
    assert first.monthly_price == rows[0]["monthly_price"]


def test_a_failed_insert_names_no_cpf_in_its_error(engine: Engine) -> None:
    row = subscription_row(7)
    with engine.begin() as conn:
        upserts.insert_returning_ids(conn, Subscription, [row], "cpf")
    with pytest.raises(Exception) as failed, engine.begin() as conn:
        upserts.insert_returning_ids(
            conn, Subscription, [subscription_row(8, cpf=row["cpf"])], "cpf"
        )
    assert row["cpf"] not in str(failed.value)
