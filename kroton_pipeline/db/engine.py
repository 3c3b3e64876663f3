"""Engines for the project's database: SQLite by default, PostgreSQL in production."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url

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
