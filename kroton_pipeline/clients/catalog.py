"""Client of the catalog middleware (Elasticsearch-shaped offer search)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from kroton_pipeline.clients.counters import ClientCounters
from kroton_pipeline.clients.errors import KrotonError
from kroton_pipeline.clients.models import (
    CatalogSearchRequest,
    CatalogSearchResult,
    HealthResult,
    parse_answer,
)
from kroton_pipeline.clients.rate_limit import LocalRateBudget, RateBudget
from kroton_pipeline.clients.transport import LogSink, RetryPolicy, build_transport, logger

AuthScheme = Literal["apiKey", "Bearer", "none"]
# The design document's middleware endpoint.
CATALOG_SEARCH_PATH = "/elasticlayer/middleware/oferta/_search"


class CatalogClient:
    """Offer search with ``Authorization: apiKey <key>`` (staging: ``Bearer <key>``; ``none``:
    no Authorization header, where the middleware wants none).

    A search is a POST but reads only, so it is retried like a GET.
    """

    system = "catalog"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        auth_scheme: AuthScheme = "apiKey",
        budget: RateBudget | None = None,
        timeout_seconds: float = 30.0,
        policy: RetryPolicy | None = None,
        log: LogSink | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if auth_scheme not in ("apiKey", "Bearer", "none"):
            raise ValueError("auth_scheme must be apiKey, Bearer or none")
        self.counters = ClientCounters(self.system)
        self.log: LogSink = log or logger
        self._transport = build_transport(
            system=self.system,
            base_url=base_url,
            headers={} if auth_scheme == "none" else {"Authorization": f"{auth_scheme} {api_key}"},
            timeout_seconds=timeout_seconds,
            budget=budget or LocalRateBudget(self.system, 100, 300.0),
            policy=policy,
            counters=self.counters,
            log=self.log,
            sleep=sleep,
            rng=rng,
        )

    def search(self, query: Mapping[str, Any], size: int | None = None) -> CatalogSearchResult:
        """Run a search. ``query`` is either a whole body (``{"query": ..., "size": ...}``, as
        ``domain.catalog_query.build_course_query`` makes) or just the query clause.
        """
        if "query" in query:
            body = dict(query)
            if size is not None:
                body["size"] = size
        else:
            body = {"query": dict(query), "size": 10 if size is None else size}
        request = CatalogSearchRequest.model_validate(body)
        answer = self._transport.call(
            "catalog_search",
            "POST",
            CATALOG_SEARCH_PATH,
            json=request.model_dump(),
            idempotent=True,
        )
        return parse_answer(CatalogSearchResult, answer, "catalog.catalog_search")

    def health(self) -> HealthResult:
        """The key is accepted and the search answers (one ``size: 0`` search)."""
        try:
            result = self.search({"bool": {"must": [{"match": {"ativa": True}}]}}, size=0)
        except KrotonError as exc:
            return HealthResult(system=self.system, ok=False, detail=str(exc))
        return HealthResult(
            system=self.system, ok=True, detail=f"search answered ({result.total} active offers)"
        )

    def close(self) -> None:
        self._transport.http.close()

    def __enter__(self) -> CatalogClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
