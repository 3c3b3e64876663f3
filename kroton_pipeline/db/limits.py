"""Per-row limits of the columns an import writes, read from the models so they cannot drift.

PostgreSQL refuses a whole statement for one value past ``varchar(n)``, ``integer`` or
``numeric(p, s)``; SQLite stores it silently. The import checks every row against these
limits first and rejects the offending rows alone (``value_too_long`` /
``value_out_of_range``, naming the column, never the value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Integer, Numeric, SmallInteger, String, Table

from kroton_pipeline.db.models import Subscription

_INTEGER_BITS = ((BigInteger, 64), (SmallInteger, 16), (Integer, 32))


@dataclass(frozen=True)
class ColumnLimit:
    """What one column accepts: at most ``max_length`` characters, or ``|value| < bound``."""

    column: str
    max_length: int | None = None
    low: float | None = None
    high: float | None = None
    scale: int | None = None  # decimal places a Numeric column rounds to

    def violations(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Bool array: which values the database would refuse (missing values never)."""
        if self.max_length is not None:
            lengths = pd.Series(values).astype("str").str.len()
            return (lengths > self.max_length).fillna(False).to_numpy(dtype=bool)
        numbers = np.asarray(values, dtype="float64")
        if self.scale is not None:
            numbers = np.round(numbers, self.scale)
        with np.errstate(invalid="ignore"):
            return (numbers < self.low) | (numbers > self.high)

    def detail(self) -> str:
        if self.max_length is not None:
            return f"{self.column} is longer than {self.max_length} characters"
        return f"{self.column} is outside the range the database stores"


def column_limits(table: Table) -> dict[str, ColumnLimit]:
    """The limit of every length-, integer- or precision-bounded column of ``table``."""
    limits: dict[str, ColumnLimit] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, String) and kind.length:
            limits[column.name] = ColumnLimit(column.name, max_length=kind.length)
        elif isinstance(kind, Numeric) and not isinstance(kind, Integer) and kind.precision:
            scale = kind.scale or 0
            # The largest value numeric(p, s) holds is 10^(p-s) - 10^-s.
            bound = 10.0 ** (kind.precision - scale) - 10.0**-scale
            limits[column.name] = ColumnLimit(column.name, low=-bound, high=bound, scale=scale)
        elif isinstance(kind, Integer):
            bits = next(b for base, b in _INTEGER_BITS if isinstance(kind, base))
            high = 2.0 ** (bits - 1) - 1
            limits[column.name] = ColumnLimit(column.name, low=-high - 1, high=high)
    return limits


SUBSCRIPTION_LIMITS: dict[str, ColumnLimit] = column_limits(Subscription.__table__)
