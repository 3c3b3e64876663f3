"""Shared fixtures. Keep one section per concern; database fixtures first.

Databases
---------
``sqlite_url``    a migrated SQLite file in ``tmp_path`` (copied from one migrated per session).
``postgres_url``  a fresh, migrated PostgreSQL database per test, cloned from a template
                  migrated once per session and dropped afterwards. The server is
                  ``KROTON_TEST_PG_URL`` (default ``postgresql+psycopg2://postgres@127.0.0.1:5432/test``,
                  used as the admin connection). Unreachable server: skipped, or failed when
                  ``CI=true``.
``db_url``        both of the above (ids ``sqlite``, ``postgres``); ``engine`` is an Engine on it.
``empty_db_url``  an empty (not migrated) database of each kind, for migration tests.

Sandbox
-------
``sandbox``          the Kroton simulator over real HTTP, started for the test on a free port
                     (seed 7), speaking ``dialect`` with ``sandbox_options``.
``dialect``          the API dialect, ``source``; a folder overrides it with
                     ``@pytest.fixture(params=API_DIALECTS)`` to run on both, a test with
                     ``@pytest.mark.parametrize("dialect", API_DIALECTS)``.
``sandbox_options``  keyword arguments of ``SandboxServer`` (rate limit, token lifetime,
                     port...), none by default; a folder or module overrides it.

Dagster
-------
Every test starts with no Dagster instance in context (``isolated_dagster_context``, autouse):
an instance opened by an earlier test cannot leak into this test's definitions load.
"""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster._core.storage.defs_state.base import set_defs_state_storage
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from kroton_pipeline.db.engine import make_engine, normalise_url, upgrade
from kroton_pipeline.sandbox import SandboxServer

SANDBOX_SEED = 7

DEFAULT_TEST_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


# --- Dagster --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated_dagster_context() -> Iterator[None]:
    """No definitions-state storage in context when a test starts, whatever ran before.

    Opening a ``DagsterInstance`` as a context manager puts its state storage in a context
    variable, and closing it restores the previous value. Two instances closed out of order
    (fixtures of different tests on one xdist worker, a runner thread) leave the closed one
    there; the next definitions load then reads the storage of a collected instance and fails
    with "undefined DagsterInstance weakref". So does an instance's context left open in an
    abandoned generator, closed whenever the garbage collector gets to it. Each test starts
    with none, and what it abandoned is collected before the next one starts.
    """
    with set_defs_state_storage(None):
        yield
        gc.collect()


# --- databases -----------------------------------------------------------------------------


def _pg_admin_url() -> URL:
    return make_url(normalise_url(os.environ.get("KROTON_TEST_PG_URL", DEFAULT_TEST_PG_URL)))


class _PostgresServer:
    """Creates and drops uniquely named databases on the test server."""

    def __init__(self, admin_url: URL) -> None:
        self.admin_url = admin_url
        self.admin: Engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = f"kroton_test_{uuid.uuid4().hex[:8]}"
        self.count = 0

    def create(self, template: str | None = None) -> str:
        self.count += 1
        name = f"{self.prefix}_{self.count}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return name

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[_PostgresServer]:
    """The PostgreSQL test server, or a skip (a failure under CI) when it is unreachable."""
    admin_url = _pg_admin_url()
    probe = create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (DBAPIError, OSError) as exc:
        message = f"PostgreSQL unreachable at {admin_url.render_as_string()}: {type(exc).__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        probe.dispose()
    server = _PostgresServer(admin_url)
    yield server
    server.admin.dispose()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: _PostgresServer) -> Iterator[str]:
    """A database migrated once per session; each test gets a copy (CREATE ... TEMPLATE)."""
    name = postgres_server.create()
    upgrade(postgres_server.url(name))
    yield name
    postgres_server.drop(name)


@pytest.fixture
def new_postgres_db(postgres_server: _PostgresServer) -> Iterator[Callable[..., str]]:
    """Factory of fresh databases (``template=`` a database to clone); all dropped after."""
    created: list[str] = []

    def create(template: str | None = None) -> str:
        created.append(postgres_server.create(template))
        return postgres_server.url(created[-1])

    yield create
    for name in created:
        postgres_server.drop(name)


@pytest.fixture
def postgres_url(new_postgres_db: Callable[..., str], postgres_template: str) -> str:
    """A fresh, migrated PostgreSQL database for this test."""
    return new_postgres_db(template=postgres_template)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite_template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """A migrated SQLite database file for this test."""
    path = tmp_path / "kroton.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


_DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.integration),
]


@pytest.fixture(params=_DIALECTS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database: SQLite and PostgreSQL in turn."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=_DIALECTS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, never migrated database: SQLite and PostgreSQL in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("new_postgres_db")()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An Engine on ``db_url``, disposed after the test."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


# --- sandbox -------------------------------------------------------------------------------


@pytest.fixture
def dialect() -> str:
    """The API dialect the sandbox speaks and the pipeline is configured for."""
    return "source"


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    """Keyword arguments of the ``sandbox`` fixture's ``SandboxServer``: none by default."""
    return {}


@pytest.fixture
def sandbox(dialect: str, sandbox_options: dict[str, Any]) -> Iterator[SandboxServer]:
    """The Kroton simulator over real HTTP, on a free port unless ``sandbox_options`` names
    one, stopped after the test."""
    options = {"port": 0, "seed": SANDBOX_SEED, "dialect": dialect, **sandbox_options}
    with SandboxServer(**options) as server:
        yield server
