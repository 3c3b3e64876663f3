"""The landing location of the daily Databricks export (SPEC §9).

One file per import date, ``leads_YYYY-MM-DD.csv`` or ``leads_YYYY-MM-DD.parquet``, in a
local folder or an object-store URL (any fsspec URL; ``s3://`` needs ``s3fs`` installed).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import fsspec

from kroton_pipeline.export_reading import ExportUnreadable, read_export_bytes

EXPORT_PATTERN = re.compile(r"^leads_(\d{4}-\d{2}-\d{2})\.(csv|parquet)$")


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


__all__ = ["EXPORT_PATTERN", "ExportFile", "ExportUnreadable", "read_export_bytes"]
