"""The bundled catalog of offers and the Elasticsearch-shaped answer to a ``_search``."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from kroton_pipeline.sandbox.query import QueryError, search

BUNDLED_CATALOG = Path(__file__).with_name("catalog.json")


@cache
def _load(path: Path) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(path.read_text(encoding="utf-8")))


class Catalog:
    """Offers the sandbox knows, indexed by id; read-only."""

    def __init__(self, path: Path = BUNDLED_CATALOG) -> None:
        self.offers: list[dict[str, Any]] = [dict(o) for o in _load(path)]
        self.by_id: dict[str, dict[str, Any]] = {o["id"]: o for o in self.offers}

    def is_open(self, offer: Mapping[str, Any], today: date) -> bool:
        """Active and still taking enrolments on ``today``."""
        return bool(offer["ativa"]) and offer["dtTerminoInscricao"] >= today.isoformat()

    def search_response(self, body: Any, today: date) -> dict[str, Any]:
        """Evaluate a ``_search`` body and answer in Elasticsearch's shape.

        Raises QueryError when the body is not a query the sandbox understands.
        """
        started = time.perf_counter()
        if not isinstance(body, Mapping):
            raise QueryError("request body must be a JSON object")
        size, offset = body.get("size", 10), body.get("from", 0)
        if not isinstance(size, int) or not isinstance(offset, int) or size < 0 or offset < 0:
            raise QueryError("[size] and [from] must be non-negative integers")
        found = search(body.get("query"), self.offers, today)
        hits = [
            {"_index": "oferta", "_id": doc["id"], "_score": score, "_source": dict(doc)}
            for score, doc in found[offset : offset + size]
        ]
        return {
            "took": int((time.perf_counter() - started) * 1000),
            "timed_out": False,
            "hits": {
                "total": {"value": len(found), "relation": "eq"},
                "max_score": hits[0]["_score"] if hits else None,
                "hits": hits,
            },
        }
