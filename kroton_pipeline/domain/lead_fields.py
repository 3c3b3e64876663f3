"""Whole-column normalisers for the fields of a Databricks export (used by ``leads``).

Every function takes pandas series of text (``str`` dtype, NaN for empty) and returns
normalised series or numpy arrays aligned with the input. No Python loop runs per row.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

# The 26 states and the Federal District.
VALID_UFS: frozenset[str] = frozenset(
    ["AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
     "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO"]
)  # fmt: skip
# Portuguese particles stay lower-case when a name is re-capitalised ("João da Silva").
NAME_PARTICLES: tuple[str, ...] = ("Da", "Das", "De", "Del", "Di", "Do", "Dos", "Du", "E")

# Spelled out rather than \s so that pandas keeps the regex in pyarrow (RE2) instead of
# falling back to a Python loop; includes the no-break space spreadsheets like to leave.
WHITESPACE = "[ \t\n\r\f\v\u00a0]+"
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
# A time of day after an ISO date (a timestamp column exported as text) is ignored.
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9:.]*)?"
_BR_DATE = r"(?P<day>[0-9]{1,2})/(?P<month>[0-9]{1,2})/(?P<year>[0-9]{4})"
# At most 15 digits, so the value survives the float64 a column with gaps becomes.
_WHOLE_NUMBER = r"[0-9]{1,15}(?:\.0*)?"
# "1.234,56" or "1234,56" (Brazilian) and "1234.56" / "1234" (plain decimal point).
_BR_PRICE = r"[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+|[0-9]+,[0-9]+"
_PLAIN_PRICE = r"[0-9]+(?:\.[0-9]+)?"


def text_column(values: pd.Series) -> pd.Series:
    """Stripped text with inner whitespace collapsed; NaN where empty."""
    text = values.astype("str").str.replace(WHITESPACE, " ", regex=True).str.strip()
    return text.where(text != "")


def code_column(values: pd.Series) -> pd.Series:
    """Stripped text; NaN where empty."""
    text = values.astype("str").str.strip()
    return text.where(text != "")


def bool_array(values: pd.Series | np.ndarray) -> np.ndarray:
    """A plain numpy bool array, missing values counted as False."""
    if isinstance(values, pd.Series):
        return values.fillna(False).to_numpy(dtype=bool)
    return np.asarray(values, dtype=bool)


def display_names(names: pd.Series) -> pd.Series:
    """Title-case names typed all upper or all lower; keep any other capitalisation as is."""
    upper = bool_array(names == names.str.upper())
    lower = bool_array(names == names.str.lower())
    titled = names.str.title()
    for particle in NAME_PARTICLES:
        titled = titled.str.replace(f" {particle} ", f" {particle.lower()} ", regex=False)
    return names.mask(upper | lower, titled)


def has_letters(names: pd.Series) -> np.ndarray:
    """Whether each name has at least one cased letter (upper and lower forms differ)."""
    return bool_array(names.str.upper() != names.str.lower())


class Birthdays:
    """Parsed birth dates of a column; every mask is a numpy bool array."""

    def __init__(self, values: pd.Series, import_date: date) -> None:
        iso = bool_array(values.str.fullmatch(_ISO_DATE))
        year = _ints(values.str.slice(0, 4).where(iso))
        month = _ints(values.str.slice(5, 7).where(iso))
        day = _ints(values.str.slice(8, 10).where(iso))
        brazilian = bool_array(values.str.fullmatch(_BR_DATE))
        if brazilian.any():  # rare: only then pay for a regex extraction
            parts = values[brazilian].str.extract(_BR_DATE)
            year[brazilian] = _ints(parts["year"])
            month[brazilian] = _ints(parts["month"])
            day[brazilian] = _ints(parts["day"])
        self.matched = iso | brazilian
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        last_day = _DAYS_IN_MONTH[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
        self.real = self.matched & (month >= 1) & (month <= 12) & (day >= 1) & (day <= last_day)
        self.before_1900 = self.real & (year < 1900)
        year = np.where(self.real, year, 2000)
        month = np.where(self.real, month, 1)
        day = np.where(self.real, day, 1)
        days = (
            (year - 1970).astype("datetime64[Y]").astype("datetime64[M]")
            + (month - 1).astype("timedelta64[M]")
        ).astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
        self.in_future = self.real & (days > np.datetime64(import_date, "D"))
        # Completed years at the import date; a 29 February birthday ages on 1 March.
        not_yet = (month > import_date.month) | (
            (month == import_date.month) & (day > import_date.day)
        )
        self.age = import_date.year - year - not_yet
        # Only plausible dates become timestamps: datetime64[ns] cannot hold year 1 or 9999.
        storable = self.real & (year >= 1900) & (year <= 2200)
        self.dates = np.where(storable, days, np.datetime64("NaT")).astype("datetime64[ns]")


def whole_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(is a whole number, value): accepts "123" and the "123.0" a float column exports."""
    ok = bool_array(values.str.fullmatch(_WHOLE_NUMBER))
    return ok, _ints(values.where(ok).str.replace(r"\.[0-9]*", "", regex=True))


def prices(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(is a positive price, value) for "1.234,56", "1234,56", "1234.56", "R$ 99,90"."""
    text = values.str.replace(r"^R\$ *", "", regex=True)
    brazilian = bool_array(text.str.fullmatch(_BR_PRICE))
    plain = bool_array(text.str.fullmatch(_PLAIN_PRICE))
    decimal = text.where(
        ~brazilian, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )
    amount = decimal.where(brazilian | plain).astype("float64").to_numpy()
    ok = (brazilian | plain) & np.isfinite(amount) & (amount > 0)
    return ok, np.where(ok, amount, np.nan)


def cep_digits(values: pd.Series) -> pd.Series:
    """CEP without ``.``/``-``/spaces; NaN where empty."""
    digits = values.str.replace(r"[.\- ]", "", regex=True)
    return digits.where(digits != "")


def cep_valid(digits: pd.Series) -> np.ndarray:
    """8 digits, and not below 01000-000 (the lowest CEP in use)."""
    return bool_array(digits.str.fullmatch(r"[0-9]{8}")) & ~bool_array(digits.str.startswith("00"))


def _ints(values: pd.Series) -> np.ndarray:
    """Digit strings (NaN elsewhere) to int64, 0 where missing; a writable array."""
    return values.fillna("0").astype("int64").to_numpy(copy=True)
