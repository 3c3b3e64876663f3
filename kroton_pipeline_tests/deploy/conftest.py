"""Fixtures of the deployment tests: the processes of ``deploy/`` on fresh PostgreSQL databases.

``stack`` gives a ``Stack`` on two new databases of the test server (Dagster's storage, and
the pipeline's own, left empty for the deploy step to migrate) and a landing folder. Its
hosts are network namespaces when the machine allows it (root and ``ip netns``), else the
loopback; ``KROTON_TOPOLOGY_NETNS=0`` forces the loopback, ``=1`` requires namespaces.
Every process is stopped afterwards and the end of each log is printed (shown on failure).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kroton_pipeline_tests.deploy.hosts import LoopbackHosts, NamespaceHosts, namespaces_available
from kroton_pipeline_tests.deploy.stack import Stack


def _hosts(postgres: tuple[str, int]) -> LoopbackHosts | NamespaceHosts:
    wanted = os.environ.get("KROTON_TOPOLOGY_NETNS", "")
    if wanted == "0":
        return LoopbackHosts(postgres)
    if namespaces_available():
        return NamespaceHosts(postgres)
    if wanted == "1":
        pytest.fail("KROTON_TOPOLOGY_NETNS=1 but network namespaces are not available here")
    return LoopbackHosts(postgres)


@pytest.fixture
def stack(
    tmp_path: Path, new_postgres_db: Callable[..., str], postgres_server: object
) -> Iterator[Stack]:
    """The deployment's hosts and databases; processes are started by the test."""
    admin_url = postgres_server.admin_url  # type: ignore[attr-defined]
    hosts = _hosts((admin_url.host or "127.0.0.1", admin_url.port or 5432))
    stack = Stack(hosts, tmp_path, new_postgres_db(), new_postgres_db())
    try:
        yield stack
    finally:
        print(f"hosts: {'network namespaces' if hosts.isolated else 'loopback'}")
        for service in stack.services:
            print(f"===== {service.name} (alive: {service.alive()})\n{service.tail(60)}")
        stack.close()
