"""Per-row limits of the columns an import writes, read from the models so they cannot drift.

PostgreSQL refuses a whole statement for one value past ``varchar(n)``, ``integer`` or
``numeric(p, s)``; SQLite stores it silently. The import checks every row against these
limits first and rejects the offending rows alone (``value_too_long`` /
``value_out_of_range``, naming the column, never the value).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, Numeric, SmallInteger, String, Table

from kroton_pipeline.db.models import Subscription
from kroton_pipeline.domain.leads import ColumnLimit

_INTEGER_BITS = ((BigInteger, 64), (SmallInteger, 16), (Integer, 32))


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
