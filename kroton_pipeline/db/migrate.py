"""Run the Alembic migrations that ship inside the package.

Alembic is configured here, in code, so an installed wheel migrates a database with no
``alembic.ini`` and no working-directory assumptions: the scripts are found next to this
module.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from kroton_pipeline.db.engine import is_sqlite, make_engine, normalise_url

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
