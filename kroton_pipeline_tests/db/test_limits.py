"""The per-row limits are the models' own column types."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Integer, Numeric, String

from kroton_pipeline.db.limits import SUBSCRIPTION_LIMITS
from kroton_pipeline.db.models import Subscription


def test_every_bounded_subscription_column_has_its_limit() -> None:
    for column in Subscription.__table__.columns:
        kind = column.type
        if isinstance(kind, String | Integer | Numeric) and getattr(kind, "length", 1):
            assert column.name in SUBSCRIPTION_LIMITS, column.name
    assert SUBSCRIPTION_LIMITS["number"].max_length == Subscription.__table__.c.number.type.length


def test_limits_flag_exactly_what_the_database_refuses() -> None:
    number = SUBSCRIPTION_LIMITS["number"]
    assert number.violations(pd.Series(["x" * 20, "x" * 21, None])).tolist() == [
        False,
        True,
        False,
    ]
    period = SUBSCRIPTION_LIMITS["capture_period"]
    assert period.violations(np.array([2**31 - 1, 2**31, 202610000000])).tolist() == [
        False,
        True,
        True,
    ]
    price = SUBSCRIPTION_LIMITS["monthly_price"]
    assert price.violations(
        np.array([99999999.99, 99999999.995, 123456789.0, np.nan])
    ).tolist() == [
        False,
        True,
        True,
        False,
    ]
