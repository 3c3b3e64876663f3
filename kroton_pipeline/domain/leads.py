"""Normalisation and validation of one Databricks export.

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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from kroton_pipeline.domain import lead_fields as fields
from kroton_pipeline.domain.column_limits import ColumnLimit
from kroton_pipeline.domain.cpf import cpf_check_column, cpf_digits_column
from kroton_pipeline.domain.emails import email_valid_column
from kroton_pipeline.domain.gender import first_name_keys, normalise_genders
from kroton_pipeline.domain.kroton_answers import KROTON_SYSTEMS
from kroton_pipeline.domain.phones import VALID_DDDS, phone_valid_column, split_phone_columns
from kroton_pipeline.domain.rejections import AddressIssue, RejectionReason
from kroton_pipeline.export_reading import ROW_PROBLEM
from kroton_pipeline.settings import BusinessRules

REQUIRED_COLUMNS: tuple[str, ...] = (
    "cpf", "user_name", "gender", "birthday", "email", "area_code", "phone_number",
    "cep", "street", "number", "city", "uf",
    "course_name", "unit_id", "course_type", "modality", "monthly_price", "capture_period",
    "system", "campus",
)  # fmt: skip
DEFAULT_MODALITIES: frozenset[str] = frozenset({"Presencial", "EAD", "Semipresencial"})
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
    ``_row_problem`` column (see ``export_reading``) holds a text is rejected as
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
    col = {name: fields.text_column(frame[name]) for name in _FREE_TEXT_COLUMNS}
    col |= {name: fields.code_column(frame[name]) for name in _CODE_COLUMNS}
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
        (~fields.has_letters(name), R.MISSING_NAME, "name has no letters"),
    ]

    birth = fields.Birthdays(col["birthday"], import_date)
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
        (~fields.bool_array(ddd.isin(VALID_DDDS)), R.INVALID_PHONE, "DDD is not a Brazilian DDD"),
        (~phone_valid_column(ddd, phone), R.INVALID_PHONE, "number is not 8-9 valid digits"),
    ]

    checks += [
        (col[c].isna().to_numpy(), R.MISSING_COURSE_DATA, f"{c.replace('_', ' ')} is empty")
        for c in ("course_name", "course_type", "campus")
    ]
    unit_ok, unit_id = fields.whole_numbers(col["unit_id"])
    price_ok, price = fields.prices(col["monthly_price"])
    period_ok, period = fields.whole_numbers(col["capture_period"])
    canonical = {m.lower(): m for m in known_modalities}
    modality = col["modality"].str.lower().map(canonical).astype("str")
    system = col["system"].str.upper()
    checks += [
        (~unit_ok | (unit_id <= 0), R.INVALID_UNIT_ID, "unit id is not a positive whole number"),
        (~price_ok, R.INVALID_PRICE, "monthly price is not a positive number"),
        (~period_ok, R.INVALID_CAPTURE_PERIOD, "capture period is not a whole number"),
        (modality.isna().to_numpy(), R.INVALID_MODALITY, "modality is not a known modality"),
        (~fields.bool_array(system.isin(SYSTEMS)), R.INVALID_SYSTEM,
         "system is not one of Kroton's (COLABORAR, OLIMPO, SAP, ATHENAS)"),
    ]  # fmt: skip

    address = _addresses(col, default_address)
    candidates = pd.DataFrame(
        {
            "row_number": row_number,
            "cpf": cpf,
            "user_name": fields.display_names(name),
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
    cep = fields.cep_digits(col["cep"])
    uf = col["uf"].str.upper()
    issue = np.select(
        [
            cep.isna().to_numpy(),
            ~fields.cep_valid(cep),
            col["street"].isna().to_numpy(),
            col["number"].isna().to_numpy(),
            col["city"].isna().to_numpy(),
            ~fields.bool_array(uf.isin(fields.VALID_UFS)),
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
