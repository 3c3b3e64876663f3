"""Alembic environment, configured by ``kroton_pipeline.db.engine`` (no alembic.ini).

``migrate.alembic_config`` hands over either an open connection (``config.attributes
["connection"]``) or a URL (``config.attributes["url"]``); SQLite runs in batch mode because
it cannot ALTER most things in place.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.db.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=config.attributes["url"],
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=config.attributes["url"].startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.attributes["url"])
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
