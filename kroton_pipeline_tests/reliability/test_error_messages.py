"""Exception messages hold no personal data: a failed statement's message is what
Dagster stores in its event log, shows in the UI and what the Slack failure message quotes."""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.db.models import Subscription
from kroton_pipeline_tests.db.factories import subscription_row

PERSON = {"cpf": "37845760870", "email": "ana.souza@example.com", "phone_number": "975405666"}


@pytest.mark.integration
def test_database_errors_hide_the_values_of_the_row(db_url: str) -> None:
    engine = make_engine(db_url)
    row = subscription_row(1, **PERSON)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Subscription), [row])
        with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
            conn.execute(insert(Subscription), [row])  # same CPF: unique violation
    finally:
        engine.dispose()
    # The whole chain, as Dagster records it: SQLAlchemy's error and the driver's cause.
    text = "".join(traceback.format_exception(raised.value))
    assert "subscriptions" in text or "cpf" in text  # still says what went wrong
    for value in (*PERSON.values(), "Maria Teste 1", "1995-03-17"):
        assert value not in text, value
