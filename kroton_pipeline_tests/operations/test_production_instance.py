"""deploy/dagster.yaml: a Dagster instance on PostgreSQL that runs the pipeline.

The test starts an instance from the file as shipped, on a fresh database of the CI
PostgreSQL server, and materializes one import date through it.
"""

import shutil
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.db.models import Subscription
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.settings import today_in_sao_paulo

DEPLOY_YAML = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"

pytestmark = pytest.mark.integration


@pytest.fixture
def production_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_postgres_db: Callable[..., str]
) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml, its variables set to a fresh database."""
    url = make_url(new_postgres_db())
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(DEPLOY_YAML, home / "dagster.yaml")
    for name, value in {
        "DAGSTER_PG_HOST": url.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_USERNAME": url.username or "postgres",
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": url.database or "",
    }.items():
        monkeypatch.setenv(name, value)
    return home


def test_the_production_instance_runs_on_postgres_with_queue_pools_and_retries(
    production_home: Path,
) -> None:
    instance = dg.DagsterInstance.from_config(str(production_home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        config = instance.get_concurrency_config()
        assert config.run_queue_config.max_concurrent_runs == 4
        assert config.pool_config.default_pool_limit == 1
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    finally:
        instance.dispose()


def test_a_partition_materializes_through_the_production_instance(
    production_home: Path,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    day = today_in_sao_paulo()
    write_export(generate_export(day, 25, seed=5), tmp_path / "landing", day)
    monkeypatch.setenv("KROTON_ENV", "sandbox")
    monkeypatch.setenv("KROTON_DATABASE_URL", postgres_url)
    monkeypatch.setenv("KROTON_LANDING_URL", str(tmp_path / "landing"))
    from kroton_pipeline.definitions import defs

    instance = dg.DagsterInstance.from_config(str(production_home))
    try:
        result = (
            defs()
            .resolve_job_def("import_leads")
            .execute_in_process(instance=instance, partition_key=day.isoformat())
        )
        assert result.success
        # Read back from PostgreSQL through a second instance on the same configuration.
        reader = dg.DagsterInstance.from_config(str(production_home))
        try:
            run = reader.get_run_by_id(result.run_id)
            assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
            event = reader.get_latest_materialization_event(dg.AssetKey("subscriptions"))
            assert event is not None and event.run_id == result.run_id
            assert event.asset_materialization.partition == day.isoformat()
        finally:
            reader.dispose()
    finally:
        instance.dispose()
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Subscription)).scalar_one() > 0
    engine.dispose()
