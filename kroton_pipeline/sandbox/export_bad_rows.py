"""The kinds of bad rows a Databricks export contains, and how to spoil a good row into one.

Most kinds are rejected by the pipeline's validation; ``address_missing`` is not (the lead is
registered with a fallback address and flagged) and ``unknown_name`` only leaves the gender
to be inferred, which fails for names absent from the IBGE census.
"""

from __future__ import annotations

import random
import re
from datetime import date

BAD_KINDS = (
    "cpf_check_digits",
    "cpf_same_digits",
    "cpf_duplicate",
    "birth_before_1900",
    "birth_future",
    "birth_impossible",
    "too_young",
    "email_missing",
    "email_malformed",
    "phone_without_ddd",
    "address_missing",
    "unknown_name",
)
# First names no census lists, so gender inference has nothing to go on.
INVENTED_NAMES = (
    "Xylandro",
    "Quorvina",
    "Zephyrino",
    "Brulvanda",
    "Thornélio",
    "Vexlaine",
    "Kryzandra",
    "Olvério",
    "Yssabel",
    "Drumênio",
)


def _wrong_check_digits(cpf: str) -> str:
    digits = re.sub(r"\D", "", cpf)
    last = str((int(digits[10]) + 1) % 10)
    return digits[:10] + last


def spoil(
    rows: list[dict[str, str]],
    index: int,
    kind: str,
    rng: random.Random,
    today: date,
    bad_indexes: list[int],
) -> None:
    """Turn ``rows[index]`` into a bad row of ``kind`` (in place)."""
    row = rows[index]
    if kind == "cpf_check_digits":
        row["cpf"] = _wrong_check_digits(row["cpf"])
    elif kind == "cpf_same_digits":
        row["cpf"] = str(rng.randint(0, 9)) * 11
    elif kind == "cpf_duplicate":
        if len(bad_indexes) < len(rows):
            bad = set(bad_indexes)
            source = rng.randrange(len(rows))
            while source in bad:
                source = rng.randrange(len(rows))
            row["cpf"] = rows[source]["cpf"]
        else:  # nothing good to duplicate: fall back to another invalid CPF
            row["cpf"] = _wrong_check_digits(row["cpf"])
    elif kind == "birth_before_1900":
        row["birthday"] = f"18{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-15"
    elif kind == "birth_future":
        row["birthday"] = date(today.year + rng.randint(1, 5), 6, 15).isoformat()
    elif kind == "birth_impossible":
        row["birthday"] = "2001-02-30"
    elif kind == "too_young":
        row["birthday"] = date(today.year - 10, today.month, min(today.day, 28)).isoformat()
    elif kind == "email_missing":
        row["email"] = ""
    elif kind == "email_malformed":
        row["email"] = row["email"].replace("@", rng.choice(("", " at ", "@@")))
    elif kind == "phone_without_ddd":
        row["area_code"] = ""
    elif kind == "address_missing":
        for part in rng.sample(["street", "number", "cep"], rng.randint(1, 3)):
            row[part] = ""
    elif kind == "unknown_name":
        surname = row["user_name"].split(" ", 1)[1]
        row["user_name"] = f"{rng.choice(INVENTED_NAMES)} {surname}"
        row["gender"] = ""
    else:
        raise ValueError(f"unknown bad-row kind {kind!r}")
