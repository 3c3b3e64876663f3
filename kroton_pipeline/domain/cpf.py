"""CPF rules: normalisation to 11 digits and the two check digits.

A CPF is accepted only when, after removing ``.``, ``-`` and spaces, exactly 11 ASCII digits
remain. Unlike validate-docbr we do not left-pad shorter values with zeros: a CPF that lost
its leading zeros upstream is ambiguous and is rejected rather than guessed. CPFs made of one
repeated digit (``111.111.111-11``) pass the arithmetic but are not real and are rejected.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_SEPARATORS = re.compile(r"[.\- ]")
_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")
_FIRST_WEIGHTS = np.arange(10, 1, -1)
_SECOND_WEIGHTS = np.arange(11, 1, -1)


def cpf_digits(value: object) -> str | None:
    """The 11 digits of ``value`` without separators, or None if it is not 11 digits."""
    if not isinstance(value, str):
        return None
    digits = _SEPARATORS.sub("", value.strip())
    return digits if _ELEVEN_DIGITS.fullmatch(digits) else None


def is_valid_cpf(value: object) -> bool:
    """Whether ``value`` is a real CPF (11 digits, not all equal, both check digits right)."""
    digits = cpf_digits(value)
    if digits is None or len(set(digits)) == 1:
        return False
    return cpf_check_digits(digits[:9]) == digits[9:]


def cpf_check_digits(base: str) -> str:
    """The two check digits of a CPF's first nine digits (``378457608`` -> ``70``)."""
    numbers = [int(c) for c in base]
    first = sum(n * w for n, w in zip(numbers, range(10, 1, -1), strict=True)) * 10 % 11 % 10
    numbers.append(first)
    second = sum(n * w for n, w in zip(numbers, range(11, 1, -1), strict=True)) * 10 % 11 % 10
    return f"{first}{second}"


def format_cpf(digits: str) -> str:
    """``37845760870`` -> ``378.457.608-70`` (the form Kroton's payload expects)."""
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def cpf_digits_column(values: pd.Series) -> pd.Series:
    """Vectorised :func:`cpf_digits`: a ``str`` series with NaN where there are not 11 digits."""
    text = values.astype("str").str.strip().str.replace(r"[.\- ]", "", regex=True)
    return text.where(text.str.fullmatch(r"[0-9]{11}").fillna(False).astype(bool))


def cpf_check_column(digits: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """For a column of 11-digit strings (NaN elsewhere): (all digits equal, check digits ok).

    Both are boolean arrays aligned with ``digits``; rows without 11 digits are False in both.
    The arithmetic runs on an (n, 11) uint8 matrix, so 100k CPFs take milliseconds.
    """
    present = digits.notna().to_numpy()
    repeated = np.zeros(len(digits), dtype=bool)
    check_ok = np.zeros(len(digits), dtype=bool)
    if not present.any():
        return repeated, check_ok
    blob = "".join(digits[present].tolist()).encode("ascii")
    matrix = np.frombuffer(blob, dtype=np.uint8).reshape(-1, 11).astype(np.int64) - ord("0")
    first = (matrix[:, :9] @ _FIRST_WEIGHTS) * 10 % 11 % 10
    second = (matrix[:, :10] @ _SECOND_WEIGHTS) * 10 % 11 % 10
    repeated[present] = (matrix == matrix[:, :1]).all(axis=1)
    check_ok[present] = (first == matrix[:, 9]) & (second == matrix[:, 10])
    return repeated, check_ok
