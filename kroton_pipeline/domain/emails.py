"""E-mail validity, agreeing with ``email_validator.validate_email(x, check_deliverability=False)``.

Fast path (whole column, regular expressions): plain ASCII addresses whose domain has no
Punycode (``xn--``) label, i.e. practically every real lead. For those the rules below are
exactly email-validator's syntax rules with its default options:

- one ``@``; local part is an RFC 5322 dot-atom (letters, digits and ``!#$%&'*+-/=?^_`{|}~``,
  dots only between characters); no quoted local parts, display names or IP literals;
- domain made of LDH labels (letters, digits, hyphen not at either end), at least one dot,
  ending with a letter, no label longer than 63, no ``ab--`` label (reserved R-LDH), not a
  special-use name (``arpa``, ``invalid``, ``local``, ``localhost``, ``onion``, ``test``);
- domain at most 253 characters and the whole address at most 254 (the local part has no
  separate limit, as in email-validator's non-strict mode).

Everything else (non-ASCII characters, Punycode domains) is rare and is handed to
email-validator itself, row by row, so the answer still agrees with it on every row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from email_validator import EmailNotValidError, validate_email

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# The last label must end with a letter: every top-level domain does.
_LAST_LABEL = r"(?:[A-Za-z0-9][A-Za-z0-9-]*)?[A-Za-z]"
EMAIL_PATTERN = rf"{_ATEXT}+(?:\.{_ATEXT}+)*@{_LABEL}(?:\.{_LABEL})*\.{_LAST_LABEL}"
# Special-use names email-validator refuses (RFC 6761 and friends), matched at the end.
SPECIAL_USE_PATTERN = r"(?:^|\.)(?:arpa|invalid|local|localhost|onion|test)$"
_ASCII_PRINTABLE = r"[\x21-\x7e]*"


def is_valid_email(value: object) -> bool:
    """Scalar reference: email-validator's verdict on the stripped value (no DNS)."""
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def email_valid_column(emails: pd.Series) -> np.ndarray:
    """Vectorised e-mail validity of a column of already stripped strings (NaN = empty)."""
    text = emails.astype("str")
    present = text.notna().to_numpy() & (text.str.len().fillna(0).to_numpy() > 0)
    ascii_only = _bool(text.str.fullmatch(_ASCII_PRINTABLE))
    domain = text.str.replace(r"^[^@]*@", "", regex=True).where(text.str.contains("@", regex=False))
    domain = domain.str.lower()
    punycode = _bool(domain.str.contains("xn--", regex=False))
    fast = present & ascii_only & ~punycode

    valid = _bool(text.str.fullmatch(EMAIL_PATTERN))
    valid = valid & (text.str.len().fillna(0).to_numpy() <= 254)
    valid = valid & (domain.str.len().fillna(0).to_numpy() <= 253)
    valid = valid & (~_bool(domain.str.contains(r"[A-Za-z0-9-]{64}", regex=True)))
    valid = valid & (~_bool(domain.str.contains(r"(?:^|\.)[^.]{2}--", regex=True)))
    valid = valid & (~_bool(domain.str.contains(SPECIAL_USE_PATTERN, regex=True)))
    result = fast & valid

    slow = present & ~fast
    if slow.any():
        result[slow] = [is_valid_email(v) for v in text[slow].tolist()]
    return result


def _bool(values: pd.Series) -> np.ndarray:
    return values.fillna(False).to_numpy(dtype=bool)
