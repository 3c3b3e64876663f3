"""Fixtures of the reliability suite: a sandbox per test on a known port, prepared leads."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.sandbox import SandboxServer
from kroton_pipeline.settings import API_DIALECTS
from kroton_pipeline_tests.reliability.pipeline_state import PreparedLeads, prepare_leads


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=API_DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    """Every reliability rule holds in both of Kroton's dialects."""
    return str(request.param)


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    """The sandbox on a fixed free port (so it can be stopped and started again on it).

    Rate limits are out of the way unless a test sets them; answers for a timed-out request
    are held 1 s, so timeouts cost little.
    """
    return {"port": free_port(), "rate_limit": 100_000, "rate_window": 1.0, "timeout_seconds": 1.0}


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def leads(db_engine: Engine, sandbox: SandboxServer, tmp_path: Path) -> PreparedLeads:
    """About a dozen leads waiting in ``to_register``; the sandbox journal starts empty."""
    prepared = prepare_leads(db_engine, sandbox.catalog_url, tmp_path / "landing", size=16)
    sandbox.clear_journal()
    return prepared
