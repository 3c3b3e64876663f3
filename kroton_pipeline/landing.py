"""The landing location of the daily Databricks export, and reading an export into text cells.

Sections, in the order of the code:

**export_reading**: Reading one export file (CSV or Parquet) into a frame of text cells, row by row.

The reader never guesses silently: every row it returns carries the file's own characters,
and what cannot be read exactly is refused (:class:`ExportUnreadable`) or marked per row.

- **Encoding**, decided per file: UTF-8 (with or without BOM), else cp1252. A file mixing
  the two, or text already garbled by a wrong decoding upstream (``JoÃ£o``, C1 control
  characters), is refused, naming the first bad row and column (never the value); so are
  UTF-16 files and NUL characters.
- **Fields**: a row with more or fewer fields than the header is kept with its 1-based data
  row number and a :data:`ROW_PROBLEM` text, so the import rejects that row alone. Trailing
  empty fields (Excel's ``,,,``) are not a problem. Blank lines and rows of empty fields
  only are not data rows.
- **Cells**: zero-width characters are removed; ``NULL``, ``null``, ``NaN``, ``None`` and
  ``\\N`` cells are empty.
- **Header**: names are stripped, lower-cased and spaces become ``_``; two columns with the
  same name are refused.
- **Types**: Parquet columns become the text a CSV export would hold (whole numbers without
  ``.0``, decimals as written, dates ISO, timezone-aware timestamps as their São Paulo date).
  Numeric damage in CSV or Parquet (``.0`` suffixes, scientific notation, lost leading
  zeros of CPF and CEP, Excel date serials) is repaired in columns that are wholly numeric.

**landing**: The landing location of the daily Databricks export.

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

import codecs
import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kroton_pipeline.domain.leads import ROW_PROBLEM

BOM = b"\xef\xbb\xbf"


SAO_PAULO = "America/Sao_Paulo"


# Whole cells that mean "no value" in Databricks, pandas, SQL and Excel exports.
NULL_TOKENS: frozenset[str] = frozenset({"NULL", "null", "Null", "NaN", "nan", "None", "\\N"})


_DELIMITERS = ",;\t|"


_FIELD_SIZE_LIMIT = 1 << 30


# Rows per frame of a large export (bounds the import's memory), bytes per parsed block.
CHUNK_ROWS = 50_000


_SLICE_BYTES = 1 << 23


_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


_INVISIBLE_CHARACTER = f"[{_INVISIBLE}]"


# A complete multi-byte UTF-8 sequence: evidence that a file that is not all UTF-8 mixes.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


# What a UTF-8 byte 0x80-0xBF becomes when decoded as Latin-1 or cp1252.
_CONTINUATIONS = "".join(
    sorted(
        {chr(b) for b in range(0x80, 0xC0)}
        | {bytes([b]).decode("cp1252", "ignore") for b in range(0x80, 0xC0)} - {""}
    )
)


_MOJIBAKE = re.compile(f"[\u00c2\u00c3][{re.escape(_CONTINUATIONS)}]|\u00e2\u20ac|[\u0080-\u009f]")


# The UTF-8 bytes of what _MOJIBAKE matches: Â/Ã before a Latin-1 or cp1252 symbol, "â€",
# or a C1 control character.
_MOJIBAKE_BYTES = re.compile(
    rb"\xc3[\x82\x83][\xc2\xc5\xc6\xcb\xe2]|\xc3\xa2\xe2\x82\xac|\xc2[\x80-\x9f]"
)


_NUMBER_DAMAGE = r"[0-9]+\.0+|[0-9](?:\.[0-9]+)?[eE]\+?[0-9]{1,2}"


# Excel's day 0 (its 1900 leap-year bug included); 5-digit serials are 1927-2173.
_EXCEL_EPOCH = date(1899, 12, 30)


_DIGIT_WIDTHS = {"cpf": 11, "cep": 8}


_NUMERIC_TEXT_COLUMNS = ("cpf", "cep", "area_code", "phone_number")


class ExportUnreadable(ValueError):
    """The export cannot be read exactly; the message names the file, rows and columns only."""


def read_export_chunks(
    content: bytes, fmt: str, name: str = "export", chunk_rows: int | None = None
) -> Iterator[pd.DataFrame]:
    """The export as frames of text cells (``""`` when empty), ``chunk_rows`` rows at most
    (default :data:`CHUNK_ROWS`).

    Each frame has ``row_number``, the 1-based data row (header and blank lines not counted),
    and :data:`ROW_PROBLEM` (``None`` on sound rows) when one of its rows has the wrong number
    of fields. At least one frame is yielded (empty for a header-only file). Raises
    :class:`ExportUnreadable` for a file that cannot be read exactly, before the first frame
    when the encoding is at fault.
    """
    chunk_rows = chunk_rows or CHUNK_ROWS
    if fmt == "parquet":
        chunks = _parquet_chunks(content, name, chunk_rows)
    else:
        chunks = _csv_chunks(content, name, chunk_rows)
    first = 1
    for frame, typed in chunks:
        frame = repair_cells(frame, typed)
        frame["row_number"] = range(first, first + len(frame))
        first += len(frame)
        yield frame


def read_export_bytes(content: bytes, fmt: str, name: str = "export") -> pd.DataFrame:
    """The whole export as one frame (see :func:`read_export_chunks`)."""
    frames = list(read_export_chunks(content, fmt, name, chunk_rows=1 << 62))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def header_names(names: list[str], name: str) -> list[str]:
    """Normalised column names; raises :class:`ExportUnreadable` on duplicates."""
    normalised = []
    for position, raw in enumerate(names, start=1):
        visible = re.sub(_INVISIBLE_CHARACTER, "", str(raw)).strip().lower()
        normalised.append(re.sub(r"[\s\-]+", "_", visible) or f"column_{position}")
    repeated = sorted(n for n, count in Counter(normalised).items() if count > 1)
    if repeated:
        raise ExportUnreadable(f"{name} has duplicate column names: {', '.join(repeated)}")
    return normalised


def utf8_body(content: bytes, name: str) -> bytes:
    """The file as UTF-8 bytes without BOM: UTF-8 as is, cp1252 converted; refused when
    mixed, garbled, UTF-16 or holding a NUL. Never holds the whole file as ``str`` unless it
    is cp1252 or refused."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExportUnreadable(f"{name} is UTF-16; export it again as UTF-8")
    has_bom = content.startswith(BOM)
    data = content[len(BOM) :] if has_bom else content
    if not _valid_utf8(memoryview(data)):
        if has_bom or _UTF8_SEQUENCE.search(data):
            text = data.decode("utf-8", "surrogateescape")
            first_bad = re.search("[\udc80-\udcff]", text)
            row, column = _locate(text, first_bad.start() if first_bad else 0)
            raise ExportUnreadable(
                f"{name} mixes encodings: row {row} (column {column}) is not UTF-8 like the "
                "rest of the file; export it again as UTF-8"
            )
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as cp_error:
            row, column = _locate(data.decode("cp1252", "replace"), cp_error.start)
            raise ExportUnreadable(
                f"{name} is neither UTF-8 nor cp1252: row {row} (column {column}); "
                "export it again as UTF-8"
            ) from None
        data = text.encode("utf-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        text = data.decode("utf-8")
        row, column = _locate(text, len(data[:nul].decode("utf-8")))
        raise ExportUnreadable(f"{name} holds a NUL character at row {row} (column {column})")
    # The exact search is slow on a large text; the UTF-8 bytes tell first whether it can match.
    if _MOJIBAKE_BYTES.search(data):
        text = data.decode("utf-8")
        garbled = _MOJIBAKE.search(text)
        if garbled:
            row, column = _locate(text, garbled.start())
            raise ExportUnreadable(
                f"{name} holds garbled text (decoded with the wrong encoding before export) "
                f"at row {row} (column {column}); fix the export's encoding"
            )
    return data


def _valid_utf8(body: memoryview) -> bool:
    """Whether ``body`` is UTF-8, checked a slice at a time (no copy of the whole text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, body.nbytes, _SLICE_BYTES):
            decoder.decode(body[start : start + _SLICE_BYTES])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _delimiter(text: str) -> str:
    header = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(source: str | io.TextIOBase, delimiter: str | None = None) -> csv.Reader:
    # A field may be as long as the file (the limit is per process; 128 KB by default).
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_SIZE_LIMIT))
    if isinstance(source, str):
        return csv.reader(
            io.StringIO(source, newline=""), delimiter=delimiter or _delimiter(source)
        )
    return csv.reader(source, delimiter=delimiter or ",")


def _blank(fields: list[str]) -> bool:
    """An empty line, or a row of empty fields only (a spreadsheet's unused rows)."""
    return not "".join(fields).strip()


def _locate(text: str, index: int) -> tuple[int | str, str]:
    """(data row number, column name) of the character at ``index``, for error messages."""
    line = text.count("\n", 0, index) + 1
    header: list[str] = []
    data_row = 0
    reader = _records(text)
    for fields in reader:
        if _blank(fields):
            continue
        if not header:
            header = fields
            if reader.line_num >= line:
                return "header", "-"
            continue
        data_row += 1
        if reader.line_num >= line:
            column = "-"
            for position, value in enumerate(fields):
                if text[index] in value:
                    column = header[position] if position < len(header) else f"field {position + 1}"
                    break
            return data_row, column.strip()
    return data_row, "-"


def _text_stream(body: bytes) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(body), encoding="utf-8", newline="")


def _csv_chunks(
    content: bytes, name: str, chunk_rows: int
) -> Iterator[tuple[pd.DataFrame, set[str]]]:
    body = utf8_body(content, name)
    if not body or body.isspace():
        raise ExportUnreadable(f"{name} is empty (no header row)")
    delimiter = _delimiter(body[:_SLICE_BYTES].decode("utf-8", "ignore"))
    try:
        raw_header = next(f for f in _records(_text_stream(body), delimiter) if not _blank(f))
    except csv.Error as exc:
        raise ExportUnreadable(f"{name} is not a readable CSV file ({exc})") from exc
    fields_in_header = len(raw_header)
    while raw_header and not raw_header[-1].strip():
        raw_header = raw_header[:-1]
    header = header_names(raw_header, name)
    if _arrow_readable(body, delimiter, fields_in_header, len(header)):
        batches = _arrow_chunks(body, delimiter, header, fields_in_header, chunk_rows)
    else:
        batches = _row_chunks(body, delimiter, header, name, chunk_rows)
    for frame in batches:
        yield frame, set()


def _arrow_reader(body: bytes, delimiter: str, fields: int) -> pacsv.CSVStreamingReader:
    names = [f"f{i}" for i in range(fields)]
    return pacsv.open_csv(
        io.BytesIO(body),
        read_options=pacsv.ReadOptions(column_names=names, block_size=_SLICE_BYTES),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )


def _blank_masks(batch: pa.RecordBatch) -> list[pa.Array]:
    return [pc.equal(pc.utf8_trim_whitespace(column), "") for column in batch.columns]


def _arrow_readable(body: bytes, delimiter: str, fields: int, width: int) -> bool:
    """Whether Arrow's CSV reader (~20 times faster) reads every row exactly: no row with
    the wrong field count, no text under a trailing empty heading."""
    try:
        for batch in _arrow_reader(body, delimiter, fields):
            if not all(pc.all(empty).as_py() for empty in _blank_masks(batch)[width:]):
                return False
    except pa.ArrowInvalid:
        return False
    return True


def _arrow_chunks(
    body: bytes, delimiter: str, header: list[str], fields: int, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    seen_header = False
    yielded = False
    for batch in _arrow_reader(body, delimiter, fields):
        masks = _blank_masks(batch)
        all_blank = masks[0]
        for empty in masks[1:]:
            all_blank = pc.and_(all_blank, empty)
        keep = pc.invert(all_blank).to_numpy(zero_copy_only=False)
        if not seen_header and keep.any():
            keep[keep.argmax()] = False  # the header: the first row not blank
            seen_header = True
        kept = batch.filter(pa.array(keep))
        for offset in range(0, kept.num_rows, chunk_rows):
            part = kept.slice(offset, chunk_rows)
            yielded = True
            yield pd.DataFrame(
                {column: pd.Series(part.column(i), dtype="str") for i, column in enumerate(header)}
            )
    if not yielded:
        yield _rows_frame([], [], header)


def _row_chunks(
    body: bytes, delimiter: str, header: list[str], name: str, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Row by row: a row with the wrong number of fields is kept with its problem."""
    width = len(header)
    rows: list[list[str]] = []
    problems: list[str | None] = []
    records = (f for f in _records(_text_stream(body), delimiter) if not _blank(f))
    try:
        next(records)  # the header
        for fields in records:
            count = len(fields)
            if count > width and not "".join(fields[width:]).strip():
                count = width
            if count == width:
                rows.append(fields[:width])
                problems.append(None)
            else:
                rows.append((fields + [""] * width)[:width])
                problems.append(f"row has {count} fields, the header has {width}")
            if len(rows) >= chunk_rows:
                yield _rows_frame(rows, problems, header)
                rows, problems = [], []
    except csv.Error as exc:
        raise ExportUnreadable(f"{name} is not a readable CSV file ({exc})") from exc
    if rows or not problems:
        yield _rows_frame(rows, problems, header)


def _rows_frame(
    rows: list[list[str]], problems: list[str | None], header: list[str]
) -> pd.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    frame = pd.DataFrame(
        {
            column: pd.Series(pa.array(values, pa.string()), dtype="str")
            for column, values in zip(header, columns, strict=True)
        }
    )
    if any(problems):
        frame[ROW_PROBLEM] = pd.Series(problems, dtype=object)
    return frame


def _parquet_chunks(
    content: bytes, name: str, chunk_rows: int
) -> Iterator[tuple[pd.DataFrame, set[str]]]:
    """Frames of a Parquet file and the names of its columns stored as numbers."""
    try:
        parquet = pq.ParquetFile(io.BytesIO(content))
        schema = parquet.schema_arrow
    except Exception as exc:  # pyarrow raises several unrelated types
        raise ExportUnreadable(f"{name} is not a readable Parquet file") from exc
    header = header_names(schema.names, name)
    typed = {
        column
        for column, kind in zip(header, schema.types, strict=True)
        if pa.types.is_integer(kind) or pa.types.is_floating(kind)
    }
    try:
        yielded = False
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            yielded = True
            yield (
                pd.DataFrame(
                    {
                        column: _parquet_text(pa.chunked_array([batch.column(i)]))
                        for i, column in enumerate(header)
                    }
                ),
                typed,
            )
    except (pa.ArrowException, OSError) as exc:
        raise ExportUnreadable(f"{name} is not a readable Parquet file") from exc
    if not yielded:
        yield pd.DataFrame({column: pd.Series([], dtype="str") for column in header}), typed


def _parquet_text(column: pa.ChunkedArray) -> pd.Series:
    """One Parquet column as the text a CSV export would hold ("" where null)."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        values = column.to_pandas()
        if kind.tz is not None:
            values = values.dt.tz_convert(SAO_PAULO)
        text = values.dt.strftime("%Y-%m-%d")
    elif pa.types.is_date(kind):
        text = column.cast(pa.string()).to_pandas()
    elif pa.types.is_floating(kind):
        values = column.to_pandas()
        present = values.dropna()
        if len(present) and (present == present.round()).all() and present.abs().max() < 1e15:
            text = values.astype("Int64").astype("str")
        else:
            text = column.cast(pa.string()).to_pandas()
    elif pa.types.is_integer(kind) or pa.types.is_decimal(kind) or pa.types.is_boolean(kind):
        text = column.cast(pa.string()).to_pandas()
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column.to_pandas()
    else:
        text = column.to_pandas().astype(object).map(str, na_action="ignore")
    return text.astype("str").fillna("")


def repair_cells(frame: pd.DataFrame, typed: set[str]) -> pd.DataFrame:
    """``NULL``-like cells emptied; numeric damage of code columns and birthdays undone.

    Lost leading zeros are padded back only where the column was a number: stored as one
    (``typed``, from Parquet) or showing it (a ``.0`` suffix or an exponent in some cell). A
    short CPF in a text column may as well be truncated, so it stays short (and rejected).
    """
    for column in frame.columns:
        if column == ROW_PROBLEM:
            continue
        values = frame[column].astype("str").fillna("")
        if values.str.contains(_INVISIBLE_CHARACTER).any():
            values = values.str.replace(_INVISIBLE_CHARACTER, "", regex=True)
        frame[column] = values.mask(values.isin(NULL_TOKENS), "")
    for column in _NUMERIC_TEXT_COLUMNS:
        if column in frame.columns:
            frame[column] = _undamaged_digits(
                frame[column], _DIGIT_WIDTHS.get(column), column in typed
            )
    if "birthday" in frame.columns:
        frame["birthday"] = _excel_serials(frame["birthday"])
    return frame


def _undamaged_digits(values: pd.Series, width: int | None, typed: bool) -> pd.Series:
    """A wholly numeric column back to digit strings: no ``.0``, no exponent, zeros padded."""
    text = values.str.strip()
    present = text != ""
    numeric = text.str.fullmatch(f"[0-9]+|{_NUMBER_DAMAGE}").fillna(False)
    if not present.any() or not numeric[present].all():
        return values
    damaged = text.str.fullmatch(_NUMBER_DAMAGE).fillna(False)
    if damaged.any():
        text = text.mask(damaged, text[damaged].map(_whole_number))
    if width is not None and (typed or damaged.any()):
        text = text.str.zfill(width).where(present, "")
    return text.where(present, values)


def _whole_number(value: str) -> str:
    number = Decimal(value)
    return str(int(number)) if number == number.to_integral_value() else value


def _excel_serials(values: pd.Series) -> pd.Series:
    serial = values.str.strip().str.fullmatch("[1-9][0-9]{4}").fillna(False)
    if not serial.any():
        return values
    days = values[serial].astype("int64")
    dates = [(_EXCEL_EPOCH + timedelta(days=int(n))).isoformat() for n in days]
    return values.mask(serial, pd.Series(dates, index=days.index, dtype="str"))


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
