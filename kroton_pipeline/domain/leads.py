"""A lead's fields: normalising and validating an export, and masking personal data.

Sections, in the order of the code:

**leads**: Normalisation and validation of one Databricks export.

:func:`normalise_leads` turns the export's text columns into typed, normalised columns and
splits the rows into ``valid`` (ready to upsert as subscriptions) and ``rejected`` (ready for
``lead_rejections``). Every row lands in exactly one of the two. The work is done on whole
columns (pandas string kernels, numpy arithmetic), so 100,000 rows take well under a second.

When a row has several problems the first one in this order is reported: wrong number of
fields, CPF, name, birth date, e-mail, phone, course fields, then a value the database
column cannot hold (in the order of ``RejectionReason``; the limits are read from the
models by ``db.limits`` and passed in as ``limits``). An incomplete
address is never a rejection: the whole address is replaced by the configured default and
flagged. Among the rows that pass, a CPF seen again later in the file is rejected as
``duplicate_cpf_in_file``; the first (lowest ``row_number``) is kept.

**lead_fields**: Whole-column normalisers for the fields of a Databricks export (used by ``leads``).

Every function takes pandas series of text (``str`` dtype, NaN for empty) and returns
normalised series or numpy arrays aligned with the input. No Python loop runs per row.

**cpf**: CPF rules: normalisation to 11 digits and the two check digits.

A CPF is accepted only when, after removing ``.``, ``-`` and spaces, exactly 11 ASCII digits
remain. Unlike validate-docbr we do not left-pad shorter values with zeros: a CPF that lost
its leading zeros upstream is ambiguous and is rejected rather than guessed. CPFs made of one
repeated digit (``111.111.111-11``) pass the arithmetic but are not real and are rejected.

**emails**: E-mail validity, agreeing with ``email_validator.validate_email(x,
check_deliverability=False)``.

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

**phones**: Brazilian phone rules: DDD (area code) + subscriber number.

Normalisation keeps digits only, drops a trunk ``0`` or the ``55`` country code when what
remains is DDD + number (10–11 digits), and splits the DDD off the number when the export
left ``area_code`` empty (or repeated it inside ``phone_number``).

Validity follows libphonenumber's Brazilian metadata for geographic numbers, which is the
reference the tests compare against: the DDD is one of Anatel's 67 area codes and the number
is a landline (8 digits starting 2–5), a mobile (9 digits starting with 9) or a legacy
8-digit mobile starting with 7. Non-geographic numbers (0800, 4004…) are not a lead's phone.

**gender**: Gender rules: the export's gender spellings and the first-name key used to infer it.

The key of a name is what the IBGE ``names`` table and the "same first name" look-up join
on: the first word after any honorific (Sr., Dra., Prof. …), lower-case, accents removed
and anything that is not a-z dropped. ``"Dra. Maria-José Souza"`` -> ``"mariajose"``,
``"JOÃO"`` -> ``"joao"``.

**column_limits**: What a database column accepts, as a per-row check: a length, or a numeric range.

``db.limits`` reads these from the models; the import checks every row against them first
and rejects the offending rows alone (``value_too_long`` / ``value_out_of_range``, naming the
column, never the value), where PostgreSQL would refuse the whole statement.

**masking**: Masking of personal data for logs, Slack, run metadata and exceptions (LGPD).

``mask_*`` mask one known value; :func:`scrub` finds and masks personal data inside free
text; :class:`PersonalDataFilter` applies :func:`scrub` to every record of a logger or
handler it is attached to.
"""

from __future__ import annotations

import copy
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from email_validator import EmailNotValidError, validate_email

from kroton_pipeline.domain.rejections import AddressIssue, RejectionReason
from kroton_pipeline.settings import BusinessRules

# Column of the frame holding, for a row with the wrong number of fields, what is wrong.
ROW_PROBLEM = "_row_problem"

REQUIRED_COLUMNS: tuple[str, ...] = (
    "cpf", "user_name", "gender", "birthday", "email", "area_code", "phone_number",
    "cep", "street", "number", "city", "uf",
    "course_name", "unit_id", "course_type", "modality", "monthly_price", "capture_period",
    "system", "campus",
)  # fmt: skip


DEFAULT_MODALITIES: frozenset[str] = frozenset({"Presencial", "EAD", "Semipresencial"})


# Kroton's systems (``sistema``); Kroton sends them upper-case, compared upper-case.
KROTON_SYSTEMS: tuple[str, ...] = ("COLABORAR", "OLIMPO", "SAP", "ATHENAS")
SYSTEMS: frozenset[str] = frozenset(KROTON_SYSTEMS)


VALID_COLUMNS: tuple[str, ...] = (
    "row_number", "cpf", "user_name", "first_name", "gender", "birthday", "email",
    "area_code", "phone_number", "cep", "street", "number", "city", "uf",
    "address_defaulted", "address_issue", "course_name", "unit_id", "course_type",
    "modality", "monthly_price", "capture_period", "system", "campus",
)  # fmt: skip


REJECTED_COLUMNS: tuple[str, ...] = ("row_number", "reason", "detail", "cpf", "raw")


R = RejectionReason


# Columns whose inner whitespace is collapsed, and columns that are only stripped (the
# remaining ones, cpf, email and phone, have their own normalisers).
_FREE_TEXT_COLUMNS = ("user_name", "street", "number", "city", "course_name", "course_type",
                      "campus")  # fmt: skip


_CODE_COLUMNS = ("cpf", "birthday", "cep", "uf", "unit_id", "modality", "monthly_price",
                 "capture_period", "system")  # fmt: skip


class MissingColumnsError(ValueError):
    """The export lacks required columns; nothing of it may be imported."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = tuple(missing)
        super().__init__(f"export is missing required column(s): {', '.join(missing)}")


def check_columns(df: pd.DataFrame) -> None:
    """Raise :class:`MissingColumnsError` naming every required column ``df`` lacks."""
    missing = [name for name in REQUIRED_COLUMNS if name not in df.columns]
    if missing:
        raise MissingColumnsError(missing)


@dataclass(frozen=True)
class DefaultAddress:
    """Address sent to Kroton for leads whose own address is incomplete (source document)."""

    cep: str = "12243740"
    street: str = "Rua Pedro de Toledo"
    number: str = "48"
    city: str = "São José dos Campos"
    uf: str = "SP"


@dataclass(frozen=True)
class NormalisedLeads:
    """Result of :func:`normalise_leads`: ``len(valid) + len(rejected) == len(raw)``.

    ``valid`` has :data:`VALID_COLUMNS`. Dtypes: ``row_number``, ``unit_id``,
    ``capture_period`` int64; ``monthly_price`` float64; ``birthday`` datetime64[ns] (midnight,
    never NaT); ``address_defaulted`` bool; ``gender`` and ``address_issue`` object holding
    str or None; every other column pandas' ``str`` dtype, never missing.
    ``rejected`` has :data:`REJECTED_COLUMNS`: ``row_number`` int64, ``reason`` and ``detail``
    ``str`` (``reason`` is a :class:`RejectionReason` value, ``detail`` holds no personal
    data), ``cpf`` object (11-digit str or None), ``raw`` object (dict of the row's export
    columns, str or None). Both frames are sorted by ``row_number`` with a fresh index.
    """

    valid: pd.DataFrame
    rejected: pd.DataFrame


def normalise_leads(
    raw: pd.DataFrame,
    *,
    import_date: date,
    rules: BusinessRules,
    default_address: DefaultAddress = DefaultAddress(),  # frozen: sharing it is safe
    known_modalities: frozenset[str] = DEFAULT_MODALITIES,
    seen: SeenCpfs | None = None,
    limits: Mapping[str, ColumnLimit] | None = None,
) -> NormalisedLeads:
    """Normalise and validate an export read with every column as text.

    ``raw`` has the export columns (extra ones are ignored) and an int ``row_number``
    (1-based data row; numbered from 1 in file order when absent). A row whose
    ``_row_problem`` column (see ``kroton_pipeline.landing``) holds a text is rejected as
    ``wrong_field_count`` with that text as detail. ``seen`` carries the valid CPFs of
    earlier chunks of the same file (a file read in chunks), so a repeat across chunks is a
    ``duplicate_cpf_in_file`` too. ``limits`` are what the database columns accept
    (``db.limits.SUBSCRIPTION_LIMITS``, which the import passes): a value past one is a
    ``value_too_long`` / ``value_out_of_range`` rejection.
    """
    check_columns(raw)
    frame = raw.reset_index(drop=True)
    if "row_number" in frame.columns:
        row_number = frame["row_number"].to_numpy(dtype=np.int64)
    else:
        row_number = np.arange(1, len(frame) + 1, dtype=np.int64)
    col = {name: text_column(frame[name]) for name in _FREE_TEXT_COLUMNS}
    col |= {name: code_column(frame[name]) for name in _CODE_COLUMNS}
    checks: list[tuple[np.ndarray, RejectionReason, str]] = []
    problem = frame[ROW_PROBLEM] if ROW_PROBLEM in frame.columns else None
    if problem is not None:
        checks.append((problem.notna().to_numpy(), R.WRONG_FIELD_COUNT, "wrong number of fields"))

    cpf = cpf_digits_column(frame["cpf"])
    repeated, check_ok = cpf_check_column(cpf)
    checks += [
        (col["cpf"].isna().to_numpy(), R.INVALID_CPF, "cpf is empty"),
        (cpf.isna().to_numpy(), R.INVALID_CPF, "cpf does not have exactly 11 digits"),
        (repeated, R.INVALID_CPF, "cpf has all digits equal"),
        (~check_ok, R.INVALID_CPF, "cpf check digits do not match"),
    ]

    name = col["user_name"]
    checks += [
        (name.isna().to_numpy(), R.MISSING_NAME, "name is empty"),
        (~has_letters(name), R.MISSING_NAME, "name has no letters"),
    ]

    birth = Birthdays(col["birthday"], import_date)
    checks += [
        (col["birthday"].isna().to_numpy(), R.INVALID_BIRTHDAY, "birth date is empty"),
        (~birth.matched, R.INVALID_BIRTHDAY, "birth date is not YYYY-MM-DD or DD/MM/YYYY"),
        (~birth.real, R.INVALID_BIRTHDAY, "birth date is not a calendar date"),
        (birth.before_1900, R.BIRTHDAY_BEFORE_1900, "birth date before 1900"),
        (birth.in_future, R.BIRTHDAY_IN_FUTURE, "birth date after the import date"),
        (
            (birth.age < rules.min_age) | (birth.age > rules.max_age),
            R.AGE_OUT_OF_RANGE,
            f"age outside {rules.min_age}-{rules.max_age} years",
        ),
    ]

    email = frame["email"].astype("str").str.strip()
    email = email.where(email != "")
    checks += [
        (email.isna().to_numpy(), R.INVALID_EMAIL, "e-mail is empty"),
        (~email_valid_column(email), R.INVALID_EMAIL, "e-mail is not a valid address"),
    ]

    ddd, phone = split_phone_columns(frame["area_code"], frame["phone_number"])
    checks += [
        (((ddd == "") & (phone == "")).to_numpy(), R.INVALID_PHONE, "phone is empty"),
        (~bool_array(ddd.isin(VALID_DDDS)), R.INVALID_PHONE, "DDD is not a Brazilian DDD"),
        (~phone_valid_column(ddd, phone), R.INVALID_PHONE, "number is not 8-9 valid digits"),
    ]

    checks += [
        (col[c].isna().to_numpy(), R.MISSING_COURSE_DATA, f"{c.replace('_', ' ')} is empty")
        for c in ("course_name", "course_type", "campus")
    ]
    unit_ok, unit_id = whole_numbers(col["unit_id"])
    price_ok, price = prices(col["monthly_price"])
    period_ok, period = whole_numbers(col["capture_period"])
    canonical = {m.lower(): m for m in known_modalities}
    modality = col["modality"].str.lower().map(canonical).astype("str")
    system = col["system"].str.upper()
    checks += [
        (~unit_ok | (unit_id <= 0), R.INVALID_UNIT_ID, "unit id is not a positive whole number"),
        (~price_ok, R.INVALID_PRICE, "monthly price is not a positive number"),
        (~period_ok, R.INVALID_CAPTURE_PERIOD, "capture period is not a whole number"),
        (modality.isna().to_numpy(), R.INVALID_MODALITY, "modality is not a known modality"),
        (~bool_array(system.isin(SYSTEMS)), R.INVALID_SYSTEM,
         "system is not one of Kroton's (COLABORAR, OLIMPO, SAP, ATHENAS)"),
    ]  # fmt: skip

    address = _addresses(col, default_address)
    candidates = pd.DataFrame(
        {
            "row_number": row_number,
            "cpf": cpf,
            "user_name": display_names(name),
            "first_name": first_name_keys(name),
            "gender": normalise_genders(frame["gender"]),
            "birthday": birth.dates,
            "email": email.str.lower(),
            "area_code": ddd,
            "phone_number": phone,
            **address,
            "course_name": col["course_name"],
            "unit_id": unit_id,
            "course_type": col["course_type"],
            "modality": modality,
            "monthly_price": price,
            "capture_period": period,
            "system": system,
            "campus": col["campus"],
        },
        columns=list(VALID_COLUMNS),
    )
    checks += _limit_checks(candidates, limits or {})

    conditions = [mask for mask, _, _ in checks]
    # Object arrays: a fixed-width numpy string would truncate the details written later.
    reason = np.select(conditions, [str(r) for _, r, _ in checks], default="").astype(object)
    detail = np.select(conditions, [d for _, _, d in checks], default="").astype(object)
    if problem is not None:
        has_problem = problem.notna().to_numpy()
        detail[has_problem] = problem[has_problem].to_numpy(dtype=object)
    _reject_duplicates(cpf.to_numpy(dtype=object), row_number, reason, detail, seen)
    keep = reason == ""

    valid = _sorted(candidates[keep])
    rejected = _rejections(frame, cpf, row_number, reason, detail)
    return NormalisedLeads(valid=valid, rejected=rejected)


def _limit_checks(
    candidates: pd.DataFrame, limits: Mapping[str, ColumnLimit]
) -> list[tuple[np.ndarray, RejectionReason, str]]:
    """A check per column whose database limit some value would exceed."""
    checks = []
    for column, limit in limits.items():
        if column not in candidates.columns or column == "row_number":
            continue
        over = limit.violations(candidates[column])
        if over.any():
            reason = R.VALUE_TOO_LONG if limit.max_length is not None else R.VALUE_OUT_OF_RANGE
            checks.append((over, reason, limit.detail()))
    return checks


class SeenCpfs:
    """The CPFs of valid rows in earlier chunks of the same file, with their row numbers
    (as sorted int64 arrays: 16 bytes a row, so a 1,000,000-row file stays small)."""

    def __init__(self) -> None:
        self.keys = np.empty(0, np.int64)
        self.rows = np.empty(0, np.int64)

    def first_rows(self, cpfs: np.ndarray) -> np.ndarray:
        """The row each CPF was first seen on, 0 where it was not."""
        if not len(self.keys):
            return np.zeros(len(cpfs), np.int64)
        position = np.minimum(np.searchsorted(self.keys, cpfs), len(self.keys) - 1)
        return np.where(self.keys[position] == cpfs, self.rows[position], 0)

    def add(self, cpfs: np.ndarray, rows: np.ndarray) -> None:
        keys = np.concatenate([self.keys, cpfs])
        order = np.argsort(keys, kind="stable")
        self.keys, self.rows = keys[order], np.concatenate([self.rows, rows])[order]


def _reject_duplicates(
    cpf: np.ndarray,
    row_number: np.ndarray,
    reason: np.ndarray,
    detail: np.ndarray,
    seen: SeenCpfs | None = None,
) -> None:
    """Mark later valid rows sharing a CPF with an earlier valid row (in place); with
    ``seen``, earlier chunks' rows count too and this chunk's first rows are added."""
    candidates = np.flatnonzero(reason == "")
    candidates = candidates[np.argsort(row_number[candidates], kind="stable")]
    if seen is not None and len(candidates):
        earlier = seen.first_rows(pd.Series(cpf[candidates]).astype("int64").to_numpy())
        again = earlier > 0
        reason[candidates[again]] = str(R.DUPLICATE_CPF_IN_FILE)
        detail[candidates[again]] = [f"same cpf as row {row}" for row in earlier[again]]
        candidates = candidates[~again]
    cpfs = pd.Series(cpf[candidates])
    duplicated = cpfs.duplicated(keep="first").to_numpy()
    if seen is not None and len(candidates):
        firsts = candidates[~duplicated]
        seen.add(pd.Series(cpf[firsts]).astype("int64").to_numpy(), row_number[firsts])
    if not duplicated.any():
        return
    rows = row_number[candidates]
    first_row = dict(zip(cpfs[~duplicated], rows[~duplicated], strict=True))
    later = candidates[duplicated]
    reason[later] = str(R.DUPLICATE_CPF_IN_FILE)
    detail[later] = [f"same cpf as row {first_row[c]}" for c in cpfs[duplicated]]


def _addresses(col: dict[str, pd.Series], default: DefaultAddress) -> dict[str, object]:
    """Normalised address columns; incomplete addresses replaced whole by ``default``."""
    cep = cep_digits(col["cep"])
    uf = col["uf"].str.upper()
    issue = np.select(
        [
            cep.isna().to_numpy(),
            ~cep_valid(cep),
            col["street"].isna().to_numpy(),
            col["number"].isna().to_numpy(),
            col["city"].isna().to_numpy(),
            ~bool_array(uf.isin(VALID_UFS)),
        ],
        [str(i) for i in AddressIssue],
        default=None,
    ).astype(object)
    defaulted = pd.notna(issue)
    parts = {"cep": cep, "street": col["street"], "number": col["number"], "city": col["city"]}
    parts["uf"] = uf
    out: dict[str, object] = {
        key: values.mask(defaulted, getattr(default, key)).astype("str")
        for key, values in parts.items()
    }
    out["address_defaulted"] = defaulted
    out["address_issue"] = pd.Series(issue, dtype=object)
    return out


def _rejections(
    frame: pd.DataFrame,
    cpf: pd.Series,
    row_number: np.ndarray,
    reason: np.ndarray,
    detail: np.ndarray,
) -> pd.DataFrame:
    rejected = reason != ""
    export_columns = [str(c) for c in frame.columns if c not in ("row_number", ROW_PROBLEM)]
    cells = []
    for name in export_columns:
        values = frame.loc[rejected, name].astype(object)
        cells.append(values.where(values.notna(), None).tolist())
    # zip instead of DataFrame.to_dict: three times faster when a whole file is rejected.
    originals = [dict(zip(export_columns, row, strict=True)) for row in zip(*cells, strict=True)]
    cpfs = cpf[rejected].astype(object)
    result = pd.DataFrame(
        {
            "row_number": row_number[rejected],
            "reason": pd.array(reason[rejected], dtype="str"),
            "detail": pd.array(detail[rejected], dtype="str"),
            "cpf": pd.Series(cpfs.where(cpfs.notna(), None).to_numpy(), dtype=object),
            "raw": pd.Series(originals, dtype=object),
        },
        columns=list(REJECTED_COLUMNS),
    )
    return _sorted(result)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("row_number", kind="stable").reset_index(drop=True)


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
        self.dates = np.where(storable, days, np.datetime64("NaT", "D")).astype("datetime64[ns]")


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


_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


# Punctuated (123.456.789-09, optionally without some separators) or 11 bare digits.
_CPF = re.compile(r"(?<![0-9])[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]{2}(?![0-9])")


_ISO_DATE_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?![0-9])")


_BR_DATE_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}(?![0-9])")


# DDD (optionally after +55, optionally in parentheses) + 8 or 9 digits with the usual
# separators: 10-11 digits in all. Invalid numbers are masked too; they are still someone's.
_PHONE = re.compile(
    r"(?<![0-9])(?:\+?55[ .-]?)?(?:\([0-9]{2}\)|[0-9]{2})[ .-]?"
    r"(?:[0-9][ .-]?)?[0-9]{4}[ .-]?[0-9]{4}(?![0-9])"
)


def mask_cpf(cpf: str) -> str:
    """``"12345678909"`` or ``"123.456.789-09"`` -> ``"***.456.789-**"``."""
    digits = _NON_DIGITS.sub("", cpf or "")
    if len(digits) != 11:
        return "***.***.***-**"
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


def mask_email(email: str) -> str:
    """``"joao.silva@gmail.com"`` -> ``"j***@gmail.com"`` (first letter and domain kept)."""
    local, at, domain = (email or "").strip().rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(area_code: str | None, number: str | None) -> str:
    """``("11", "975405666")`` -> ``"(11) *****-**66"``: only the DDD and last 2 digits."""
    area = _NON_DIGITS.sub("", area_code or "")
    digits = _NON_DIGITS.sub("", number or "")
    shown_area = area if len(area) == 2 else "**"
    if len(digits) < 6:
        return f"({shown_area}) ****-****"
    return f"({shown_area}) {'*' * (len(digits) - 4)}-**{digits[-2:]}"


def mask_birthday(_birthday: object = None) -> str:
    """Any birth date -> ``"****-**-**"``: no part of it is useful enough to show."""
    return "****-**-**"


def mask_name(name: str) -> str:
    """``"Mauricio Matsoui"`` -> ``"M*** M***"``: initials only."""
    return " ".join(f"{word[:1]}***" for word in (name or "").split()) or "***"


def mask_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an EnrollmentPayload fit for run metadata: every personal field masked.

    Offer ids, channel, affiliate, exam type, city and UF stay readable.
    """
    masked = copy.deepcopy(dict(payload))
    person = masked.get("dadosPessoais")
    if isinstance(person, dict):
        phone = _NON_DIGITS.sub("", str(person.get("celular") or ""))
        person["celular"] = mask_phone(phone[:2], phone[2:])
        person["cpf"] = mask_cpf(str(person.get("cpf") or ""))
        person["dataNascimento"] = mask_birthday()
        person["email"] = mask_email(str(person.get("email") or ""))
        person["nome"] = mask_name(str(person.get("nome") or ""))
        person["rg"] = "***"
        address = person.get("endereco")
        if isinstance(address, dict):
            address["cep"] = str(address.get("cep") or "")[:2] + "***-***"
            address["logradouro"] = "***"
            address["numero"] = "***"
    return masked


def scrub(text: str, *, dates: bool = True) -> str:
    """Mask every e-mail, CPF, Brazilian phone and date (ISO or DD/MM/YYYY) found in ``text``.

    Any date may be a birth date, so dates are masked too; pass ``dates=False`` where the
    text is known to carry only operational dates (partition keys, run times).
    """
    text = _EMAIL.sub(lambda m: mask_email(m.group()), text)
    if dates:
        text = _ISO_DATE_IN_TEXT.sub("****-**-**", text)
        text = _BR_DATE_IN_TEXT.sub("**/**/****", text)
    text = _CPF.sub(_mask_cpf_or_phone, text)
    return _PHONE.sub(lambda m: _mask_phone_text(m.group()), text)


def _mask_cpf_or_phone(match: re.Match[str]) -> str:
    # Eleven bare digits may be a CPF or DDD + mobile: mask as what it validates as.
    value = match.group()
    if value.isdigit() and not is_valid_cpf(value):
        return _mask_phone_text(value)
    return mask_cpf(value)


def _mask_phone_text(value: str) -> str:
    digits = _NON_DIGITS.sub("", value)
    if len(digits) in (12, 13) and digits.startswith("55"):
        digits = digits[2:]
    return mask_phone(digits[:2], digits[2:])


class PersonalDataFilter(logging.Filter):
    """Scrubs personal data from log records (message, arguments and exception text).

    A filter on a *logger* sees only records logged on that logger, not those propagated
    from its children; attach it to a *handler* to cover everything the handler writes.
    ``mask_dates=False`` keeps dates readable (see :func:`scrub`).
    """

    def __init__(self, name: str = "", *, mask_dates: bool = True) -> None:
        super().__init__(name)
        self.mask_dates = mask_dates

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad %-args: still scrub what we have
            message = f"{record.msg} {record.args}"
        record.msg = scrub(message, dates=self.mask_dates)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, dates=self.mask_dates)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, dates=self.mask_dates)
        return True
