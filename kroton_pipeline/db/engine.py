"""The database: engines, migrations, and the bulk writes that differ per dialect.

Sections, in the order of the code:

**engine**: Engines for the project's database: SQLite by default, PostgreSQL in production.

**migrate**: Run the Alembic migrations that ship inside the package.

Alembic is configured here, in code, so an installed wheel migrates a database with no
``alembic.ini`` and no working-directory assumptions: the scripts are found next to this
module.

**upserts**: Dialect-aware bulk writes: ``INSERT ... ON CONFLICT`` on SQLite and PostgreSQL.

SQLite: one compiled statement through the driver's ``executemany`` (one set of bound
variables per row, so its variable limit never applies). PostgreSQL: each chunk of rows
travels as a single JSON parameter expanded by ``json_populate_recordset`` into rows of the
table's own type (``INSERT ... SELECT``), which avoids both psycopg2's row-per-round-trip
``executemany`` and the parse cost of huge multi-row ``VALUES``. Measured on 100,000
subscription rows: ~27,000 rows/s on SQLite, ~30,000 rows/s on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    Text,
    bindparam,
    create_engine,
    event,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import DeclarativeBase

from kroton_pipeline.domain.leads import scrub


def normalise_url(url: str) -> str:
    """Give PostgreSQL URLs an explicit driver.

    SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3; the project ships psycopg2.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the Dagster UI, reports) work while a run writes; busy_timeout makes
    # concurrent writers from several processes wait instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def scrub_exception(error: BaseException | None) -> None:
    """Mask personal data in a database error's message, in place (its type is kept).

    PostgreSQL's own message quotes the offending value ("Key (cpf)=(...) already exists").
    """
    if error is not None and error.args and isinstance(error.args[0], str):
        error.args = (scrub(error.args[0]), *error.args[1:])


def _scrub_error(context: ExceptionContext) -> None:
    # Both the driver's exception and SQLAlchemy's wrapper carry the text.
    scrub_exception(context.original_exception)
    scrub_exception(context.sqlalchemy_exception)


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create an engine for ``url`` with the settings each dialect needs.

    Error messages carry no personal data: bound parameters are left out
    (``hide_parameters``) and the database's own text is scrubbed, because a failed
    statement's message ends up in Dagster's event log, the UI and Slack.
    """
    url = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        engine = create_engine(url, **kwargs)  # type: ignore[arg-type]
        event.listen(engine, "connect", _configure_sqlite)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)  # type: ignore[arg-type]
    event.listen(engine, "handle_error", _scrub_error)
    return engine


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` for the package's migrations, pointed at ``url``.

    The URL travels in ``config.attributes`` rather than the ini options so that passwords
    containing ``%`` need no escaping.
    """
    config = Config()
    # Paths are split on os.pathsep, so a checkout under a path with spaces still works.
    config.set_main_option("path_separator", "os")
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    if url is not None:
        config.attributes["url"] = normalise_url(url)
    return config


# Session-level advisory lock held while migrating on PostgreSQL (any fixed 64-bit number).
MIGRATION_LOCK_KEY = 0x6B726F746F6E  # "kroton"


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision`` (default: the latest).

    On PostgreSQL the whole upgrade runs under an advisory lock, so processes that start
    together after a deploy migrate one after the other (the later ones find nothing to do)
    instead of racing to create the same tables.
    """
    config = alembic_config(url)
    if is_sqlite(url):
        command.upgrade(config, revision)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
                conn.commit()
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops everything)."""
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or ``None`` when it was never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """The latest revision shipped with the package."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


# Rows handed to the driver per execute call: bounds memory, not correctness.
CHUNK_ROWS = 5_000


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


def _insert(conn: Connection, table: Table) -> Any:
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


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"cannot send a {type(value).__name__} value to PostgreSQL as JSON")


def _pg_execute_recordset(
    conn: Connection,
    tbl: Table,
    stmt: Any,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
) -> int:
    """Run ``stmt`` (a PostgreSQL INSERT) as ``INSERT ... SELECT FROM json_populate_recordset``.

    Each chunk travels as one JSON parameter that PostgreSQL turns into rows of the table's
    own row type, converting every field with the column's type. Multi-row ``VALUES`` (and
    psycopg2's ``ARRAY[...]`` literals) cost ~60 µs per row to parse, and SQLAlchemy does not
    batch ``ON CONFLICT`` without ``RETURNING`` at all (sqlalchemy#13130): this is ~10x faster.
    """
    row_type = literal_column(f"NULL::{conn.dialect.identifier_preparer.format_table(tbl)}")
    source = (
        func.json_populate_recordset(row_type, bindparam("rows", type_=Text))
        .table_valued(*keys)
        .alias("src")
    )
    from_select = stmt.from_select(list(keys), select(*[source.c[key] for key in keys]))
    # from_select() builds a new INSERT: carry over the ON CONFLICT clause of ``stmt``.
    from_select._post_values_clause = stmt._post_values_clause
    written = 0
    for chunk in chunked(rows, CHUNK_ROWS):
        payload = json.dumps(
            [{key: row[key] for key in keys} for row in chunk], default=_json_default
        )
        written += max(conn.execute(from_select, {"rows": payload}).rowcount, 0)
    return written


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
        return _pg_execute_recordset(conn, tbl, stmt, rows, keys)
    # SQLite: one compiled statement through the driver's executemany; Python-side defaults
    # (created_at...) are filled per row by SQLAlchemy as usual.
    written = 0
    for chunk in chunked(rows, CHUNK_ROWS):
        written += max(conn.execute(stmt, list(chunk)).rowcount, 0)
    return written


def insert_rows(
    conn: Connection, table: Table | type[DeclarativeBase], rows: Sequence[Mapping[str, Any]]
) -> int:
    """Plain bulk insert of ``rows`` (no conflict handling), chunked like :func:`upsert_rows`."""
    if not rows:
        return 0
    tbl = as_table(table)
    stmt = _insert(conn, tbl)
    if conn.dialect.name == "postgresql":
        return _pg_execute_recordset(conn, tbl, stmt, rows, list(rows[0].keys()))
    for chunk in chunked(rows, CHUNK_ROWS):
        conn.execute(stmt, list(chunk))
    return len(rows)


_COPY_NULL = "\\N"


def _copy_value(value: Any) -> Any:
    if value is None:
        return _COPY_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def copy_frame(conn: Connection, table: Table | type[DeclarativeBase], frame: Any) -> int:
    """PostgreSQL only: ``COPY`` a pandas frame (columns named as the table's) into ``table``.

    Arrow's CSV writer renders the frame (five times faster than ``DataFrame.to_csv`` on
    Arrow-backed strings): strings always quoted, missing values as an unquoted empty field,
    which is exactly what ``COPY ... (FORMAT csv)`` reads as NULL. Dates and timestamps must
    already be ISO text.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    tbl = as_table(table)
    buffer = io.BytesIO()
    pacsv.write_csv(
        pa.Table.from_pandas(frame, preserve_index=False),
        buffer,
        write_options=pacsv.WriteOptions(include_header=False),
    )
    buffer.seek(0)
    quoted = ", ".join(f'"{column}"' for column in frame.columns)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(f"COPY {tbl.name} ({quoted}) FROM STDIN WITH (FORMAT csv)", buffer)
    except Exception as error:
        scrub_exception(error)  # a raw cursor bypasses the engine's error hook
        raise
    finally:
        cursor.close()
    return len(frame)


def insert_returning_ids(
    conn: Connection,
    table: Table | type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    key_col: str,
    where: ColumnElement[bool] | None = None,
) -> list[int]:
    """Insert new ``rows`` and return their ids; ``key_col`` must be unique in the table
    (among the rows matching ``where``, when given).

    PostgreSQL parses a multi-row INSERT of 100,000 rows for ~14 s on the benchmark machine
    where ``COPY`` of the same rows takes ~2.6 s, so there the rows go through ``COPY`` (in
    the caller's transaction) and the ids are read back by key. Elsewhere: one executemany
    INSERT ... RETURNING.
    """
    if not rows:
        return []
    tbl = as_table(table)
    if conn.dialect.name != "postgresql":
        return list(conn.execute(tbl.insert().returning(tbl.c.id), list(rows)).scalars())
    columns = list(rows[0].keys())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([_copy_value(row[column]) for column in columns])
    buffer.seek(0)
    quoted = ", ".join(f'"{column}"' for column in columns)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(
            f"COPY {tbl.name} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '{_COPY_NULL}')",
            buffer,
        )
    except Exception as error:
        # A raw cursor bypasses the engine's error hook: mask the values COPY quotes.
        scrub_exception(error)
        raise
    finally:
        cursor.close()
    keys = [row[key_col] for row in rows]
    ids: dict[Any, int] = {}
    key = tbl.c[key_col]
    for chunk in chunked(keys, in_list_size(conn)):
        query = select(key, tbl.c.id).where(key.in_(chunk))
        if where is not None:
            query = query.where(where)
        ids.update((k, i) for k, i in conn.execute(query))
    return [ids[value] for value in keys]
