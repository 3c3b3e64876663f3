"""Fixtures for the pipeline tests: the real Dagster definitions on the sandbox.

``pipeline``     the whole code location (``kroton_pipeline.definitions.defs``) loaded with
                 the environment pointing at an in-process sandbox (real HTTP, port 0, a
                 1,000-requests-per-second budget), a migrated SQLite file and a landing
                 folder in ``tmp_path``; runs go to an in-memory Dagster instance.
``db_pipeline``  the same on SQLite and PostgreSQL in turn, with a persistent (SQLite-backed)
                 Dagster instance — for tests about what the database ends up holding.

The ``Pipeline`` object runs jobs, evaluates the sensor and reads back the database and the
sandbox's journal, so the tests read like the rules they check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from dagster._core.storage.defs_state.base import set_defs_state_storage
from sqlalchemy import Engine, select

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.db.models import LeadRejection, StatusHistory, Subscription
from kroton_pipeline.defs.common.resources import DatabaseResource, LandingResource
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.settings import API_DIALECTS, today_in_sao_paulo

SEED = 7
RATE_LIMIT = 1000  # requests per window: the sandbox and the resources' budget agree
RATE_WINDOW = 1
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
# Statuses in which a lead holds an inscription we (or someone) created at Kroton.
AT_KROTON = ("awaiting_register", "registered", "enrolled", "dropped", "failed")


def past_days(count: int) -> list[date]:
    """``count`` import dates with a partition, oldest first, ending yesterday (São Paulo)."""
    today = today_in_sao_paulo()
    return [today - timedelta(days=offset) for offset in range(count, 0, -1)]


def poll_now() -> dict[str, Any]:
    """Run config of ``registrations`` that polls every pending inscription at once."""
    return {"ops": {"registrations": {"config": {"poll_after_minutes": 0}}}}


@dataclass
class Pipeline:
    """The code location wired to one sandbox, one database and one landing folder."""

    defs: dg.Definitions
    instance: dg.DagsterInstance
    sandbox: SandboxServer
    engine: Engine
    database_url: str
    landing: Path

    # -- inputs ------------------------------------------------------------------------------
    def export(self, day: date, size: int = 40, seed: int = 1, **options: Any) -> pd.DataFrame:
        """Generate and land the Databricks export of ``day``."""
        frame = generate_export(day, size, seed=seed, **options)
        write_export(frame, self.landing, day)
        return frame

    # -- Dagster -----------------------------------------------------------------------------
    def run(
        self,
        job: str,
        day: date | None = None,
        run_config: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        raise_on_error: bool = True,
    ) -> dg.ExecuteInProcessResult:
        """Execute ``job`` for the partition ``day`` (or the range given in ``tags``)."""
        return self.defs.resolve_job_def(job).execute_in_process(
            partition_key=day.isoformat() if day else None,
            instance=self.instance,
            run_config={**QUIET, **(run_config or {})},
            tags=tags,
            raise_on_error=raise_on_error,
        )

    def prepare(self, *days: date) -> None:
        """Import, fill genders and match courses for ``days``: leads wait in to_register."""
        for day in days:
            result = self.defs.resolve_job_def("all_jobs").execute_in_process(
                partition_key=day.isoformat(),
                instance=self.instance,
                run_config=QUIET,
                asset_selection=[
                    dg.AssetKey(key)
                    for key in ("subscriptions", "subscription_genders", "course_matches")
                ],
            )
            assert result.success

    def run_range(
        self, job: str, first: date, last: date, **kwargs: Any
    ) -> dg.ExecuteInProcessResult:
        """One run over the partitions ``first``..``last`` (a single-run backfill)."""
        tags = {RANGE_START: first.isoformat(), RANGE_END: last.isoformat()}
        return self.run(job, None, tags=tags, **kwargs)

    def settled_sensor(self, cursor: str | None = None) -> dg.SensorResult:
        """Two ticks in a row (a file without a marker is complete once it did not change
        between two ticks): the second tick's result."""
        return self.evaluate_sensor(self.evaluate_sensor(cursor).cursor)

    def evaluate_sensor(self, cursor: str | None = None) -> dg.SensorResult:
        sensor = self.defs.resolve_sensor_def("landing_sensor")
        resources = {
            "landing": LandingResource(url=str(self.landing)),
            "database": DatabaseResource(url=self.database_url),
        }
        with dg.build_sensor_context(
            instance=self.instance, resources=resources, cursor=cursor
        ) as context:
            result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        return result

    # -- the database --------------------------------------------------------------------------
    def subscriptions(self, day: date | None = None) -> list[dict[str, Any]]:
        query = select(Subscription).order_by(Subscription.id)
        if day is not None:
            query = query.where(Subscription.import_date == day)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def statuses(self, day: date | None = None) -> Counter[str]:
        return Counter(row["status"] for row in self.subscriptions(day))

    def rejections(self, day: date) -> list[dict[str, Any]]:
        query = (
            select(LeadRejection)
            .where(LeadRejection.import_date == day)
            .order_by(LeadRejection.row_number)
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def history(self) -> list[dict[str, Any]]:
        query = select(StatusHistory).order_by(StatusHistory.id)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    # -- the sandbox ----------------------------------------------------------------------------
    def requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """The sandbox journal, optionally only one endpoint (``register``, ``token``...)."""
        entries = self.sandbox.journal()
        return [e for e in entries if endpoint is None or e["endpoint"] == endpoint]

    def kroton_requests(self) -> list[dict[str, Any]]:
        return [e for e in self.sandbox.journal() if e["system"] == "kroton"]

    def inscriptions_by_cpf(self, origin: str | None = None) -> dict[str, list[dict[str, Any]]]:
        held: dict[str, list[dict[str, Any]]] = {}
        for item in self.sandbox.inscriptions():
            if origin is None or item["origin"] == origin:
                held.setdefault(item["cpf"], []).append(item)
        return held


# A test runs on both with ``@pytest.mark.parametrize("dialect", DIALECTS)``.
DIALECTS = API_DIALECTS


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    """The sandbox with a budget tests never wait on, holding timed-out answers 0.5 s."""
    return {"rate_limit": RATE_LIMIT, "rate_window": RATE_WINDOW, "timeout_seconds": 0.5}


@pytest.fixture
def make_pipeline(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Pipeline]]:
    """Factory: the definitions loaded for a database URL, running on an instance (and on
    ``on``, another sandbox, when given)."""
    engines: list[Engine] = []

    def make(
        database_url: str, instance: dg.DagsterInstance, on: SandboxServer | None = None
    ) -> Pipeline:
        server = on or sandbox
        landing = tmp_path / f"landing_{server.port}"
        landing.mkdir(exist_ok=True)
        env = {
            "KROTON_ENV": "sandbox",
            "KROTON_SANDBOX_PORT": str(server.port),
            "KROTON_API_DIALECT": server.dialect,
            "KROTON_DATABASE_URL": database_url,
            "KROTON_LANDING_URL": str(landing),
            "KROTON_RATE_LIMIT": str(RATE_LIMIT),
            "KROTON_RATE_WINDOW_SECONDS": str(RATE_WINDOW),
            "CATALOG_RATE_LIMIT": str(RATE_LIMIT),
            "CATALOG_RATE_WINDOW_SECONDS": str(RATE_WINDOW),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        from kroton_pipeline.definitions import defs

        engine = make_engine(database_url)
        engines.append(engine)
        # Resolved against this test's instance, never one another test left in context.
        with set_defs_state_storage(instance.defs_state_storage):
            loaded = defs()
        return Pipeline(loaded, instance, server, engine, database_url, landing)

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def pipeline(
    make_pipeline: Callable[[str, dg.DagsterInstance], Pipeline], sqlite_url: str
) -> Iterator[Pipeline]:
    """The pipeline on SQLite with an in-memory Dagster instance."""
    with dg.DagsterInstance.ephemeral() as instance:
        yield make_pipeline(sqlite_url, instance)


@pytest.fixture
def persistent_instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance on SQLite storage in ``tmp_path`` (runs and events survive)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


@pytest.fixture
def db_pipeline(
    make_pipeline: Callable[[str, dg.DagsterInstance], Pipeline],
    db_url: str,
    persistent_instance: dg.DagsterInstance,
) -> Pipeline:
    """The pipeline on SQLite and PostgreSQL in turn, with a persistent Dagster instance."""
    return make_pipeline(db_url, persistent_instance)
