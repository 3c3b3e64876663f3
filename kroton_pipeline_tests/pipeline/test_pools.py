"""Runs that touch Kroton (or the catalog) never overlap: Dagster pools on a real instance.

Pools are not enforced on an in-memory instance, so this builds a SQLite-backed instance
with the repository's dagster.yaml ``concurrency`` section and checks what the run queue
relies on: both pools limited to one slot at run granularity, and a second run unable to
take the slot the first holds. (The queued-run daemon itself is not started here.)
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

REPO_DAGSTER_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"


@pytest.fixture
def instance(tmp_path: Path):
    concurrency = yaml.safe_load(REPO_DAGSTER_YAML.read_text())["concurrency"]
    with dg.instance_for_test(
        temp_dir=str(tmp_path), overrides={"concurrency": concurrency}
    ) as instance:
        yield instance


def test_repository_instance_limits_both_pools_to_one_run(instance: dg.DagsterInstance) -> None:
    pool_config = instance.get_concurrency_config().pool_config
    assert pool_config.pool_granularity.value == "run"
    assert pool_config.default_pool_limit == 1
    storage = instance.event_log_storage
    for pool in ("kroton_api", "catalog_api"):
        storage.initialize_concurrency_limit_to_default(pool)
        assert storage.get_concurrency_info(pool).slot_count == 1


def test_second_register_run_cannot_take_the_kroton_slot_while_one_runs(
    instance: dg.DagsterInstance,
) -> None:
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default("kroton_api")

    first = storage.claim_concurrency_slot("kroton_api", "run-2026-11-27", "registrations")
    second = storage.claim_concurrency_slot("kroton_api", "run-2026-11-28", "registrations")
    assert first.is_claimed
    assert not second.is_claimed  # waits in the queue

    storage.free_concurrency_slots_for_run("run-2026-11-27")
    retried = storage.claim_concurrency_slot("kroton_api", "run-2026-11-28", "registrations")
    assert retried.is_claimed
