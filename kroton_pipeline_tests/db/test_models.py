"""Every table round-trips its values, and the database enforces its constraints."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from kroton_pipeline.db.models import (
    CourseOption,
    FollowUp,
    FollowUpSnapshot,
    ImportFile,
    LeadRejection,
    Name,
    StatusHistory,
    Subscription,
)
from kroton_pipeline_tests.db.factories import create_subscriptions, subscription_row

OFFER = {"id": "OF-1", "dsCurso": "Administração", "vlMensalidadeDe": 249.9, "ativa": True}
QUERY = {"query": {"bool": {"must": [{"match": {"dsCurso": {"query": "Adm", "operator": "AND"}}}]}}}


def test_subscription_round_trips_dates_decimals_and_defaults(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Subscription), [subscription_row(1)])
    with engine.connect() as conn:
        row = conn.execute(select(Subscription)).one()
    assert row.birthday == date(1995, 3, 17)
    assert row.monthly_price == Decimal("249.90")
    assert row.city == "São José dos Campos"
    assert row.status == "to_sync"
    assert row.attempts == 0
    assert row.address_defaulted is False
    assert isinstance(row.created_at, datetime)
    assert row.created_at.tzinfo is None


def test_json_tables_round_trip(engine: Engine) -> None:
    now = datetime(2026, 1, 5, 12, 30, 15)
    with engine.begin() as conn:
        (sid,) = create_subscriptions(conn, 1)
        conn.execute(
            insert(CourseOption),
            [
                {
                    "subscription_id": sid,
                    "rank": rank,
                    "offer_id": f"OF-{rank}",
                    "offer": OFFER,
                    "query": QUERY,
                    "searched_at": now,
                }
                for rank in (1, 2)
            ],
        )
        source = {
            "inscricoes": [{"inscricaoId": "I-9", "classificacao": {"descricao": "Inscrito"}}]
        }
        conn.execute(
            insert(FollowUp).values(
                subscription_id=sid,
                kroton_subscription_id="I-9",
                kroton_subscription_dealer_id="D-1",
                source=source,
            )
        )
        conn.execute(
            insert(FollowUpSnapshot).values(
                subscription_id=sid,
                snapshot_date=date(2026, 1, 6),
                classification="Inscrito",
                processing_status="SUCCESS",
                internal_status="registered",
                source=source,
            )
        )
        conn.execute(
            insert(StatusHistory).values(
                subscription_id=sid,
                from_status=None,
                to_status="to_sync",
                run_id="r1",
                changed_at=now,
            )
        )
        conn.execute(
            insert(LeadRejection).values(
                import_date=date(2026, 1, 5),
                row_number=7,
                reason="invalid_cpf",
                raw={"nome": "X", "n": [1, 2]},
            )
        )
        conn.execute(
            insert(ImportFile).values(
                import_date=date(2026, 1, 5),
                file_name="a.csv",
                sha256="0" * 64,
                rows_in=10,
                imported=9,
                rejected=1,
            )
        )
        conn.execute(
            insert(Name).values(
                first_name="maria",
                classification="F",
                frequency_female=100,
                frequency_male=1,
                frequency_total=101,
                ratio=100 / 101,
            )
        )
    with engine.connect() as conn:
        options = conn.execute(select(CourseOption).order_by(CourseOption.rank)).all()
        assert [o.offer for o in options] == [OFFER, OFFER]
        assert options[0].query == QUERY and options[0].searched_at == now
        assert conn.execute(select(FollowUp.source)).scalar_one() == source
        snapshot = conn.execute(select(FollowUpSnapshot)).one()
        assert snapshot.snapshot_date == date(2026, 1, 6) and snapshot.source == source
        assert conn.execute(select(StatusHistory.changed_at)).scalar_one() == now
        assert conn.execute(select(LeadRejection.raw)).scalar_one() == {"nome": "X", "n": [1, 2]}
        assert conn.execute(select(ImportFile.imported)).scalar_one() == 9
        assert conn.execute(select(Name.ratio)).scalar_one() == pytest.approx(100 / 101)


def test_cpf_is_unique(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Subscription), [subscription_row(1)])
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Subscription), [subscription_row(1, user_name="Outra Pessoa")])


def test_status_outside_the_machine_is_refused(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Subscription), [subscription_row(1, status="sent")])


def test_deleting_a_subscription_deletes_its_history(engine: Engine) -> None:
    with engine.begin() as conn:
        (sid,) = create_subscriptions(conn, 1)
        conn.execute(insert(StatusHistory).values(subscription_id=sid, to_status="to_sync"))
        conn.execute(Subscription.__table__.delete())
        assert conn.execute(select(StatusHistory)).all() == []
