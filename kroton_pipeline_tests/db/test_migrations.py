"""The migrations shipped in the package build the schema the models describe."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from kroton_pipeline.db import __main__ as db_cli
from kroton_pipeline.db import engine as migrate
from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.db.models import Base


def _schema_diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_builds_every_table_on_an_empty_database(empty_db_url: str) -> None:
    assert migrate.current(empty_db_url) is None
    migrate.upgrade(empty_db_url)
    assert migrate.current(empty_db_url) == migrate.head()
    engine = make_engine(empty_db_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables


def test_migrated_schema_equals_the_models(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    assert _schema_diff(empty_db_url) == []


def test_downgrade_to_base_and_upgrade_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    migrate.downgrade(empty_db_url, "base")
    assert migrate.current(empty_db_url) is None
    migrate.upgrade(empty_db_url)
    assert migrate.current(empty_db_url) == migrate.head()


def test_upgrade_twice_is_a_no_op(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    assert migrate.current(sqlite_url) == migrate.head()


def test_migrations_ship_inside_the_package() -> None:
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "script.py.mako").is_file()
    # Importable packages, so a non-editable install copies the revisions with the code.
    assert (migrate.MIGRATIONS_DIR / "__init__.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "versions" / "__init__.py").is_file()
    assert migrate.head() == "0009"


def test_command_line_upgrade_and_current(tmp_path, capsys, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("KROTON_DATABASE_URL", url)
    assert db_cli.main(["current"]) == 0
    assert "(not migrated)" in capsys.readouterr().out
    assert db_cli.main(["upgrade"]) == 0
    assert db_cli.main(["current", "--url", url]) == 0
    assert capsys.readouterr().out.strip().endswith(migrate.head())


def test_two_migrations_at_once_both_succeed_on_postgresql(new_postgres_db) -> None:
    # Every run migrates on first use: after a deploy, runs start together.
    url = new_postgres_db()
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "kroton_pipeline.db", "upgrade", "--url", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for run in runs:
        _out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err[-1500:]
    assert migrate.current(url) == migrate.head()
    assert _schema_diff(url) == []


def test_downgrading_past_erased_people_refuses_to_forget_an_erasure(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO erased_people (cpf_digest) VALUES ('d')"))
    engine.dispose()
    with pytest.raises(Exception, match="erasure"):
        migrate.downgrade(sqlite_url, "0002")
    assert migrate.current(sqlite_url) is not None
