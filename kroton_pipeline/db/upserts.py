"""Dialect-aware bulk writes: ``INSERT ... ON CONFLICT`` on SQLite and PostgreSQL.

One statement is compiled per call and executed with many parameter sets: SQLite runs it
through the driver's ``executemany`` (one bound variable set per row, so its variable limit
never applies), PostgreSQL through SQLAlchemy's "insertmanyvalues" batching (multi-row
``VALUES`` pages of ``PG_PAGE_SIZE`` rows, far under the 65,535-parameter cap).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase

# Rows handed to the driver per execute call: bounds memory, not correctness.
CHUNK_ROWS = 5_000
# Rows per multi-VALUES statement on PostgreSQL; 65,535 parameters / 40 columns ~ 1,600.
PG_PAGE_SIZE = 100
# Bound variables one SQLite statement may carry (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
SQLITE_MAX_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999


class UnsupportedDialect(NotImplementedError):
    """The database is neither SQLite nor PostgreSQL."""


def as_table(table: Table | type[DeclarativeBase]) -> Table:
    """Accept a ``Table`` or a mapped class."""
    return table if isinstance(table, Table) else table.__table__  # type: ignore[return-value]


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def in_list_size(conn: Connection, reserved: int = 10) -> int:
    """How many values one ``IN (...)`` list may carry on this connection's dialect."""
    if conn.dialect.name == "sqlite":
        return min(SQLITE_MAX_VARIABLES - reserved, 30_000)
    return 10_000


def _insert(conn: Connection, table: Table):  # noqa: ANN202 - dialect-specific Insert
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise UnsupportedDialect(f"upserts support sqlite and postgresql, not {name}")


def _dedupe(
    rows: Iterable[Mapping[str, Any]], conflict_cols: Sequence[str]
) -> list[Mapping[str, Any]]:
    # PostgreSQL refuses to update one row twice in a statement; the last row for a key wins,
    # as it would if the rows were written one after the other.
    by_key: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for row in rows:
        by_key[tuple(row[col] for col in conflict_cols)] = row
    return list(by_key.values())


def upsert_rows(
    conn: Connection,
    table: Table | type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    conflict_cols: Sequence[str],
    update_cols: Sequence[str] | None = None,
) -> int:
    """Insert ``rows`` into ``table``; on a ``conflict_cols`` clash update ``update_cols``.

    ``update_cols=None`` updates every column the rows carry except the conflict columns;
    an empty list means "insert the new rows, leave existing ones alone" (``DO NOTHING``).
    Columns with an ``onupdate`` (``updated_at``) are refreshed on every update, which
    ``ON CONFLICT`` would not do by itself. Every row must carry the same keys. Rows sharing
    a conflict key are collapsed, the last one winning. Returns the number of rows written.
    """
    if not rows:
        return 0
    tbl = as_table(table)
    rows = _dedupe(rows, conflict_cols)
    keys = list(rows[0].keys())
    if update_cols is None:
        update_cols = [key for key in keys if key not in conflict_cols]
    stmt = _insert(conn, tbl)
    if update_cols:
        set_: dict[str, Any] = {col: stmt.excluded[col] for col in update_cols}
        for column in tbl.columns:
            if column.onupdate is not None and column.name not in set_:
                # A callable default takes an execution context; ours (utcnow) ignores it.
                set_[column.name] = column.onupdate.arg(None)  # type: ignore[attr-defined]
        stmt = stmt.on_conflict_do_update(index_elements=list(conflict_cols), set_=set_)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict_cols))

    if conn.dialect.name == "postgresql":
        # SQLAlchemy batches an ON CONFLICT insert into multi-row VALUES only when it has a
        # RETURNING clause (sqlalchemy#13130); without it psycopg2 sends one row per round
        # trip, ten times slower. The returned keys also count the rows written.
        stmt = stmt.returning(tbl.c[conflict_cols[0]])

    # Python-side defaults (created_at...) are filled per row by SQLAlchemy as usual.
    written = 0
    stmt = stmt.execution_options(insertmanyvalues_page_size=PG_PAGE_SIZE)
    for chunk in chunked(rows, CHUNK_ROWS):
        result = conn.execute(stmt, list(chunk))
        written += len(result.all()) if result.returns_rows else max(result.rowcount, 0)
    return written


def insert_rows(
    conn: Connection, table: Table | type[DeclarativeBase], rows: Sequence[Mapping[str, Any]]
) -> int:
    """Plain bulk insert of ``rows`` (no conflict handling), chunked like :func:`upsert_rows`."""
    if not rows:
        return 0
    tbl = as_table(table)
    stmt = tbl.insert().execution_options(insertmanyvalues_page_size=PG_PAGE_SIZE)
    for chunk in chunked(rows, CHUNK_ROWS):
        conn.execute(stmt, list(chunk))
    return len(rows)
