"""What a database column accepts, as a per-row check: a length, or a numeric range.

``db.limits`` reads these from the models; the import checks every row against them first
and rejects the offending rows alone (``value_too_long`` / ``value_out_of_range``, naming the
column, never the value), where PostgreSQL would refuse the whole statement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


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
