"""The pipeline speaks the design document's dialect and the one production integrations
speak (v5), with the same outcome and no request more per lead."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from kroton_pipeline.db.engine import upgrade
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.sandbox.validation import cpf_digits
from kroton_pipeline.settings import today_in_sao_paulo
from kroton_pipeline_tests.pipeline.conftest import (
    DIALECTS,
    RATE_LIMIT,
    RATE_WINDOW,
    SEED,
    Pipeline,
    past_days,
    poll_now,
)

pytestmark = pytest.mark.integration


def _run_everything(pipeline: Pipeline) -> tuple[dict[str, str], Counter[str]]:
    """Import, register, poll and follow one day's leads; (status per CPF, Kroton requests)."""
    (day,) = past_days(1)
    pipeline.export(day, size=60, seed=31)
    assert pipeline.run("all_jobs", day).success
    pipeline.sandbox.advance(15 * 60)
    assert pipeline.run("register", day, run_config=poll_now()).success
    pipeline.sandbox.advance(3 * 24 * 3600)
    check_all = {"ops": {"follow_up_snapshots": {"config": {"ignore_schedule": True}}}}
    assert pipeline.run("checker", today_in_sao_paulo(), run_config=check_all).success
    statuses = {cpf_digits(s["cpf"]): s["status"] for s in pipeline.subscriptions()}
    requests = Counter(e["endpoint"] for e in pipeline.kroton_requests())
    return statuses, requests


def test_v5_registers_and_follows_leads_exactly_as_the_source_dialect(
    make_pipeline: Callable[..., Pipeline], tmp_path: Path
) -> None:
    outcomes: dict[str, tuple[dict[str, str], Counter[str]]] = {}
    for dialect in DIALECTS:
        url = f"sqlite:///{tmp_path / dialect}.db"
        upgrade(url)
        with (
            SandboxServer(
                port=0,
                seed=SEED,
                rate_limit=RATE_LIMIT,
                rate_window=RATE_WINDOW,
                timeout_seconds=0.5,
                token_ttl=timedelta(days=30).total_seconds(),
                dialect=dialect,
            ) as server,
            dg.DagsterInstance.ephemeral() as instance,
        ):
            outcomes[dialect] = _run_everything(make_pipeline(url, instance, on=server))

    (source_statuses, source_requests), (v5_statuses, v5_requests) = (
        outcomes["source"],
        outcomes["v5"],
    )
    assert v5_statuses == source_statuses
    assert {"registered", "enrolled", "empty_course"} <= set(source_statuses.values())
    # The same look-ups, POSTs and polls; v5 never needs the enrolment look-up.
    assert v5_requests["register"] == source_requests["register"] > 0
    assert v5_requests["inscricoes_by_cpf"] == source_requests["inscricoes_by_cpf"]
    assert v5_requests["inscricao_status"] == source_requests["inscricao_status"]
    assert sum(v5_requests.values()) <= sum(source_requests.values())
