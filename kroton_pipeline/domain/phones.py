"""Brazilian phone rules: DDD (area code) + subscriber number.

Normalisation keeps digits only, drops a trunk ``0`` or the ``55`` country code when what
remains is DDD + number (10–11 digits), and splits the DDD off the number when the export
left ``area_code`` empty (or repeated it inside ``phone_number``).

Validity follows libphonenumber's Brazilian metadata for geographic numbers, which is the
reference the tests compare against: the DDD is one of Anatel's 67 area codes and the number
is a landline (8 digits starting 2–5), a mobile (9 digits starting with 9) or a legacy
8-digit mobile starting with 7. Non-geographic numbers (0800, 4004…) are not a lead's phone.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Anatel's area codes (Plano Geral de Códigos Nacionais), 67 in all.
VALID_DDDS: frozenset[str] = frozenset(
    [str(n) for n in range(11, 20)]
    + ["21", "22", "24", "27", "28"]
    + ["31", "32", "33", "34", "35", "37", "38"]
    + [str(n) for n in range(41, 50)]
    + ["51", "53", "54", "55"]
    + [str(n) for n in range(61, 70)]
    + ["71", "73", "74", "75", "77", "79"]
    + [str(n) for n in range(81, 90)]
    + [str(n) for n in range(91, 100)]
)

_DDD_ALTERNATION = "|".join(sorted(VALID_DDDS))
# DDD + number, as one string; the same text is used by the scalar and the vectorised path.
PHONE_PATTERN = rf"(?:{_DDD_ALTERNATION})(?:9[0-9]{{8}}|[2-57][0-9]{{7}})"
_PHONE_RE = re.compile(PHONE_PATTERN)
_NON_DIGITS = re.compile(r"[^0-9]")


def split_phone(area_code: object, phone_number: object) -> tuple[str, str]:
    """Scalar twin of :func:`split_phone_columns`: (ddd digits, number digits)."""
    area = _NON_DIGITS.sub("", area_code) if isinstance(area_code, str) else ""
    number = _NON_DIGITS.sub("", phone_number) if isinstance(phone_number, str) else ""
    if len(area) == 3 and area.startswith("0"):
        area = area[1:]
    elif len(area) == 4 and area.startswith("55"):
        area = area[2:]
    if len(number) in (12, 13) and number.startswith("55"):
        number = number[2:]
    elif len(number) in (11, 12) and number.startswith("0"):
        number = number[1:]
    if len(number) in (10, 11) and (not area or number[:2] == area):
        area, number = number[:2], number[2:]
    return area, number


def is_valid_phone(ddd: str, number: str) -> bool:
    """Whether an already split DDD + number is a valid Brazilian geographic phone."""
    return bool(_PHONE_RE.fullmatch(ddd + number))


def split_phone_columns(
    area_code: pd.Series, phone_number: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Vectorised :func:`split_phone`: two ``str`` series of digits ("" where nothing)."""
    area = area_code.astype("str").str.replace(r"[^0-9]", "", regex=True).fillna("")
    number = phone_number.astype("str").str.replace(r"[^0-9]", "", regex=True).fillna("")
    area_len = area.str.len().to_numpy()
    area = area.mask((area_len == 3) & _starts(area, "0"), area.str.slice(1))
    area = area.mask((area_len == 4) & _starts(area, "55"), area.str.slice(2))
    number_len = number.str.len().to_numpy()
    country = np.isin(number_len, (12, 13)) & _starts(number, "55")
    trunk = ~country & np.isin(number_len, (11, 12)) & _starts(number, "0")
    number = number.mask(country, number.str.slice(2)).mask(trunk, number.str.slice(1))
    number_len = number.str.len().to_numpy()
    head = number.str.slice(0, 2)
    has_ddd = np.isin(number_len, (10, 11)) & ((area == "").to_numpy() | (head == area).to_numpy())
    area = area.mask(has_ddd, head)
    number = number.mask(has_ddd, number.str.slice(2))
    return area, number


def phone_valid_column(ddd: pd.Series, number: pd.Series) -> np.ndarray:
    """Vectorised :func:`is_valid_phone` over split columns."""
    return (ddd + number).str.fullmatch(PHONE_PATTERN).fillna(False).to_numpy(dtype=bool)


def _starts(values: pd.Series, prefix: str) -> np.ndarray:
    return values.str.startswith(prefix).fillna(False).to_numpy(dtype=bool)
