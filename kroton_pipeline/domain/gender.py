"""Gender rules: the export's gender spellings and the first-name key used to infer it.

The key of a name is what the IBGE ``names`` table and the "same first name" look-up join
on: the first word after any honorific (Sr., Dra., Prof. …), lower-case, accents removed
and anything that is not a-z dropped. ``"Dra. Maria-José Souza"`` -> ``"mariajose"``,
``"JOÃO"`` -> ``"joao"``.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

GENDER_UNKNOWN = "NI"
"""Gender of a lead whose first name says nothing reliable; such a lead is not sent."""

# Spellings seen in exports, compared lower-case and stripped.
GENDER_SPELLINGS: dict[str, str] = {
    "m": "M",
    "masc": "M",
    "masculino": "M",
    "male": "M",
    "f": "F",
    "fem": "F",
    "feminino": "F",
    "female": "F",
}

# Whitespace is spelled out (not \s) so that pandas keeps these regexes in pyarrow.
_SPACE = "[ \t\n\r\f\v\u00a0]"
_HONORIFICS = rf"^(?:(?:sr|sra|srta|dr|dra|prof|profa)\.?{_SPACE}+)+"
# The combining diacritics left behind by NFKD: U+0300 to U+036F.
_COMBINING = "[\u0300-\u036f]"
# Everything from the first whitespace on (the string is already stripped).
_FIRST_SPACE_ON = f"{_SPACE}(?:.|\n)*"
_HONORIFICS_RE = re.compile(_HONORIFICS)
_FIRST_SPACE_ON_RE = re.compile(_FIRST_SPACE_ON)
_COMBINING_RE = re.compile(_COMBINING)
_NOT_A_TO_Z_RE = re.compile(r"[^a-z]")


def normalise_gender(value: object) -> str | None:
    """``"Feminino"`` -> ``"F"``, ``" m "`` -> ``"M"``; anything else (empty, NI…) -> None."""
    if not isinstance(value, str):
        return None
    return GENDER_SPELLINGS.get(value.strip().lower())


def normalise_genders(values: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise_gender`: an object series of "M", "F" or None."""
    keys = values.astype("str").str.strip().str.lower()
    mapped = keys.map(GENDER_SPELLINGS).astype(object)
    return mapped.where(mapped.notna(), None)


def first_name_key(name: object) -> str:
    """The join key of a person's first name ("" when the name has none)."""
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKD", name.strip().lower())
    text = _COMBINING_RE.sub("", _HONORIFICS_RE.sub("", text))
    return _NOT_A_TO_Z_RE.sub("", _FIRST_SPACE_ON_RE.sub("", text))


def first_name_keys(names: pd.Series) -> pd.Series:
    """Vectorised :func:`first_name_key`: a ``str`` series ("" where there is no name)."""
    text = names.astype("str").str.strip().str.lower().str.normalize("NFKD")
    text = text.str.replace(_HONORIFICS, "", regex=True).str.replace(_COMBINING, "", regex=True)
    first = text.str.replace(_FIRST_SPACE_ON, "", regex=True)
    return first.str.replace(r"[^a-z]", "", regex=True).fillna("")
