"""The landing location of the daily Databricks export (SPEC §9).

One file per import date, ``leads_YYYY-MM-DD.csv`` or ``leads_YYYY-MM-DD.parquet``, in a
local folder or an object-store URL (any fsspec URL; ``s3://`` needs ``s3fs`` installed).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import fsspec
import pandas as pd

EXPORT_PATTERN = re.compile(r"^leads_(\d{4}-\d{2}-\d{2})\.(csv|parquet)$")


class ExportUnreadable(ValueError):
    """The export file exists but cannot be read as CSV or Parquet; names the file only."""


@dataclass(frozen=True)
class ExportFile:
    """One export in the landing location."""

    url: str
    name: str
    import_date: date
    fmt: str

    def read_bytes(self) -> bytes:
        with fsspec.open(self.url, "rb") as handle:
            return handle.read()

    def stamp(self) -> str:
        """Size and modification time (or ETag): cheap to read, changes when the file does."""
        fs, path = fsspec.core.url_to_fs(self.url)
        info = fs.info(path)
        changed = info.get("mtime") or info.get("LastModified") or info.get("ETag") or ""
        return f"{info.get('size')}:{changed}"


def _landing_fs(landing_url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    if "://" not in landing_url:
        landing_url = str(Path(landing_url).resolve())
    fs, root = fsspec.core.url_to_fs(landing_url)
    return fs, root


def list_exports(landing_url: str) -> list[ExportFile]:
    """Every export file in the landing location, oldest import date first.

    A missing landing folder means no export yet, not an error.
    """
    fs, root = _landing_fs(landing_url)
    if not fs.exists(root):
        return []
    exports = []
    for path in fs.ls(root, detail=False):
        name = path.rstrip("/").rsplit("/", 1)[-1]
        match = EXPORT_PATTERN.match(name)
        if not match:
            continue
        url = fs.unstrip_protocol(path)
        exports.append(ExportFile(url, name, date.fromisoformat(match.group(1)), match.group(2)))
    return sorted(exports, key=lambda export: (export.import_date, export.fmt))


def find_export(landing_url: str, import_date: date) -> ExportFile | None:
    """The export for ``import_date`` (CSV preferred when both formats exist), or ``None``."""
    return exports_by_date(landing_url).get(import_date)


def exports_by_date(landing_url: str) -> dict[date, ExportFile]:
    """The one export per import date that an import reads (CSV preferred over Parquet)."""
    chosen: dict[date, ExportFile] = {}
    for export in list_exports(landing_url):
        chosen.setdefault(export.import_date, export)
    return chosen


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _decode(content: bytes) -> str:
    # Databricks writes UTF-8; a BOM or a Latin-1 file from a manual export still reads.
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_export_bytes(content: bytes, fmt: str, name: str = "export") -> pd.DataFrame:
    """The export as a DataFrame of strings (empty cells as ``""``) with ``row_number``.

    ``row_number`` is the 1-based data row (the header is not counted), so a rejection can
    be found in the file. Parquet columns of other types are turned into strings; an
    integer CPF column gets its leading zeros back.
    """
    if fmt == "parquet":
        try:
            frame = pd.read_parquet(io.BytesIO(content))
        except Exception as exc:  # pyarrow raises several unrelated types
            raise ExportUnreadable(f"{name} is not a readable Parquet file") from exc
        frame = frame.astype(object).where(frame.notna(), "")
        frame = frame.astype(str)
        if "cpf" in frame.columns:
            frame["cpf"] = frame["cpf"].str.replace(r"\.0$", "", regex=True)
            digits_only = frame["cpf"].str.fullmatch(r"\d{1,11}")
            frame.loc[digits_only, "cpf"] = frame.loc[digits_only, "cpf"].str.zfill(11)
    else:
        text = _decode(content)
        if not text.strip():
            raise ExportUnreadable(f"{name} is empty (no header row)")
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                sep=_delimiter(text),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skipinitialspace=False,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ExportUnreadable(f"{name} is not a readable CSV file") from exc
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    frame = frame.reset_index(drop=True)
    frame["row_number"] = range(1, len(frame) + 1)
    return frame
