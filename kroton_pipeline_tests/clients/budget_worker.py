"""A separate OS process that makes Kroton look-ups through the shared database budget.

Started by ``test_shared_budget.py`` with multiprocessing's ``spawn`` context, so that it
shares nothing with the test process but the database and the sandbox.
"""

from __future__ import annotations

import time
from typing import Any

from kroton_pipeline.clients.kroton import KrotonClient
from kroton_pipeline.clients.transport import DatabaseRateBudget, RetryPolicy


def run(
    kroton_url: str,
    database_url: str,
    cpfs: list[str],
    limit: int,
    window: float,
    start: Any,
    results: Any,
    clock_offset: float = 0.0,
) -> None:
    """Wait for ``start``, look up every CPF, put this process's counters in ``results``.

    ``clock_offset`` skews this process's wall clock (a host whose clock is wrong).
    """
    budget = DatabaseRateBudget(
        database_url, "kroton", limit, window, clock=lambda: time.time() + clock_offset
    )
    with KrotonClient(
        base_url=kroton_url,
        client_id="sandbox-client",
        client_secret="sandbox-secret",
        subscription_key="sandbox-subscription",
        budget=budget,
        timeout_seconds=5,
        policy=RetryPolicy(max_attempts=3, backoff_base_seconds=0.05),
    ) as client:
        start.wait(30)
        for cpf in cpfs:
            client.inscriptions_by_cpf(cpf)
        results.put(client.counters.as_metadata())
