"""The landing location of the daily Databricks export.

One export per import date, in a local folder or an object-store URL (any fsspec URL;
``s3://`` needs ``s3fs`` installed):

- a file ``leads_YYYY-MM-DD.csv`` or ``leads_YYYY-MM-DD.parquet``, complete once an empty
  marker ``leads_YYYY-MM-DD.csv.done`` lies next to it or its size and modification time
  stay the same across two sensor ticks;
- a Spark/Databricks output directory ``leads_YYYY-MM-DD/`` (or ``leads_YYYY-MM-DD.csv/``,
  ``leads_YYYY-MM-DD.parquet/``) of ``part-*`` files, CSV with a header in each part or
  Parquet, complete only once Spark has written its ``_SUCCESS`` marker inside.

A name that matches the pattern but not a real date, or a directory without ``_SUCCESS``,
is listed as skipped with its reason; it never stops another date. docs/exports.md holds the
contract.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import fsspec
import pandas as pd

from kroton_pipeline.export_reading import ExportUnreadable, read_export_bytes, read_export_chunks

EXPORT_PATTERN = re.compile(r"^leads_(\d{4}-\d{2}-\d{2})\.(csv|parquet)$")
# Anything that looks like an export (so a bad date is reported, not silently ignored).
_CANDIDATE = re.compile(r"^leads_(\d{4}-\d{2}-\d{2}|\d[\d-]*)(?:\.(csv|parquet))?$")
# An empty file next to a plain export that says it is complete: leads_YYYY-MM-DD.csv.done
DONE_SUFFIX = ".done"
# The marker Spark writes into an output directory once every part is there.
SPARK_SUCCESS = "_SUCCESS"


@dataclass(frozen=True)
class ExportFile:
    """One export in the landing location: a single file or a Spark directory of parts."""

    url: str
    name: str
    import_date: date
    fmt: str
    directory: bool = False

    def parts(self) -> list[str]:
        """The URLs of the data files, in order: the file itself or a directory's parts.

        Empty part files (Spark writes them for empty partitions) hold no rows and are left
        out.
        """
        if not self.directory:
            return [self.url]
        fs, path = fsspec.core.url_to_fs(self.url)
        return [
            fs.unstrip_protocol(info["name"])
            for info in sorted(fs.ls(path, detail=True), key=lambda info: info["name"])
            if _base(info["name"]).startswith("part-") and info.get("size")
        ]

    def read_bytes(self) -> bytes:
        """The whole file's bytes (a single-file export)."""
        with fsspec.open(self.url, "rb") as handle:
            return handle.read()

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Every part read in chunks (:func:`read_export_chunks`), one part's bytes in memory
        at a time; ``row_number`` runs on across parts."""
        before = 0
        urls = self.parts()
        if not urls:
            raise ExportUnreadable(f"{self.name} holds no part files with data")
        for url in urls:
            with fsspec.open(url, "rb") as handle:
                content = handle.read()
            label = self.name if not self.directory else f"{self.name}/{_base(url)}"
            rows = 0
            for frame in read_export_chunks(content, self.fmt, label):
                frame["row_number"] = frame["row_number"] + before
                rows += len(frame)
                yield frame
            del content
            before += rows

    def read(self) -> tuple[pd.DataFrame, str]:
        """The whole export as one frame, with the SHA-256 of all parts' bytes in order."""
        frames = list(self.chunks())
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return frame, self.digest()

    def digest(self) -> str:
        """SHA-256 of every part's bytes in order (of the file itself for a plain file)."""
        digest = hashlib.sha256()
        for url in self.parts():
            with fsspec.open(url, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()

    def stamp(self) -> str:
        """Size and modification time (or ETag) of the file, or of every entry of the
        directory: cheap to read, changes when the export does."""
        fs, path = fsspec.core.url_to_fs(self.url)
        infos = fs.ls(path, detail=True) if self.directory else [fs.info(path)]
        return ";".join(
            f"{_base(info['name'])}:{info.get('size')}:{_changed(info)}"
            for info in sorted(infos, key=lambda info: info["name"])
        )

    def has_marker(self) -> bool:
        """Whether its writer said it is complete (``_SUCCESS`` inside, ``.done`` beside)."""
        fs, path = fsspec.core.url_to_fs(self.url)
        if self.directory:
            return fs.exists(f"{path}/{SPARK_SUCCESS}")
        return fs.exists(path + DONE_SUFFIX)

    def is_empty(self) -> bool:
        """No bytes at all (a file just created, or a directory without data parts)."""
        if self.directory:
            return not self.parts()
        fs, path = fsspec.core.url_to_fs(self.url)
        return not fs.info(path).get("size")


@dataclass(frozen=True)
class LandingScan:
    """What the landing location holds: exports, and names skipped with the reason."""

    exports: list[ExportFile] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _changed(info: dict) -> str:
    return str(info.get("mtime") or info.get("LastModified") or info.get("ETag") or "")


def _landing_fs(landing_url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    if "://" not in landing_url:
        landing_url = str(Path(landing_url).resolve())
    fs, root = fsspec.core.url_to_fs(landing_url)
    return fs, root


def _real_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def _directory_format(fs: fsspec.AbstractFileSystem, path: str, suffix: str | None) -> str:
    """``parquet`` when named so or when every part is Parquet; CSV otherwise."""
    if suffix:
        return suffix
    parts = [_base(p) for p in fs.ls(path, detail=False) if _base(p).startswith("part-")]
    return "parquet" if parts and all(p.endswith(".parquet") for p in parts) else "csv"


def scan_landing(landing_url: str) -> LandingScan:
    """Every export in the landing location (oldest import date first; per date a CSV file,
    then a Parquet file, then a Spark directory) and every export-like name skipped.

    A missing landing folder means no export yet, not an error.
    """
    fs, root = _landing_fs(landing_url)
    scan = LandingScan()
    if not fs.exists(root):
        return scan
    for info in fs.ls(root, detail=True):
        name = _base(info["name"])
        match = _CANDIDATE.match(name)
        if not match:
            continue
        is_dir = info.get("type") == "directory"
        if not is_dir and match.group(2) is None:
            continue  # leads_2026-01-01 without an extension, or a marker file
        import_date = _real_date(match.group(1))
        if import_date is None:
            scan.skipped[name] = "the name does not hold a real date (leads_YYYY-MM-DD)"
            continue
        if is_dir and not fs.exists(f"{info['name']}/{SPARK_SUCCESS}"):
            scan.skipped[name] = f"a directory without the {SPARK_SUCCESS} marker"
            continue
        fmt = _directory_format(fs, info["name"], match.group(2)) if is_dir else match.group(2)
        url = fs.unstrip_protocol(info["name"])
        scan.exports.append(ExportFile(url, name, import_date, fmt, directory=is_dir))
    scan.exports.sort(key=lambda e: (e.import_date, e.directory, e.fmt))
    return scan


def list_exports(landing_url: str) -> list[ExportFile]:
    """Every readable export in the landing location, oldest import date first."""
    return scan_landing(landing_url).exports


def find_export(landing_url: str, import_date: date) -> ExportFile | None:
    """The export for ``import_date`` (CSV preferred when both formats exist), or ``None``."""
    return exports_by_date(landing_url).get(import_date)


def exports_by_date(landing_url: str) -> dict[date, ExportFile]:
    """The one export per import date that an import reads (a CSV file preferred over a
    Parquet file, a file over a Spark directory)."""
    chosen: dict[date, ExportFile] = {}
    for export in list_exports(landing_url):
        chosen.setdefault(export.import_date, export)
    return chosen


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


__all__ = ["EXPORT_PATTERN", "ExportFile", "ExportUnreadable", "read_export_bytes"]
