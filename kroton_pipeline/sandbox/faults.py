"""Fault injection: per-endpoint settings and the decision taken for each request."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, fields
from typing import Any

ENDPOINTS = (
    "token",
    "captacao_login",
    "inscricoes_by_cpf",
    "matriculas_by_cpf",
    "inscricao_status",
    "register",
    "catalog_search",
)
ANY_ENDPOINT = "*"


@dataclass
class FaultSettings:
    """What can go wrong with one endpoint (rates are probabilities in [0, 1])."""

    error_rate: float = 0.0  # answer 500/502/503 without processing
    latency: float = 0.0  # seconds added before answering
    timeout_rate: float = 0.0  # never answer (hold the connection, then drop it)
    malformed_rate: float = 0.0  # process, then answer 200 with a truncated non-JSON body
    error_after_store_rate: float = 0.0  # process (store), then answer 500
    burst: int = 0  # the next N requests answer 503

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> FaultSettings:
        """Build from keyword arguments, rejecting unknown names and out-of-range values."""
        known = {f.name for f in fields(cls)}
        unknown = set(kwargs) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        settings = cls(**{k: v for k, v in kwargs.items() if v is not None})
        for name in ("error_rate", "timeout_rate", "malformed_rate", "error_after_store_rate"):
            value = float(getattr(settings, name))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
            setattr(settings, name, value)
        settings.latency = max(0.0, float(settings.latency))
        settings.burst = max(0, int(settings.burst))
        return settings


@dataclass(frozen=True)
class FaultPlan:
    """The decision for one request.

    ``action`` is one of None (answer normally), "burst" (503), "timeout", "error"
    (answer ``status``), "malformed" or "error_after_store".
    """

    latency: float = 0.0
    action: str | None = None
    status: int = 0


class FaultInjector:
    """Holds fault settings per endpoint name (or "*") and draws decisions.

    Settings for a named endpoint take precedence over the "*" settings. Draws come from a
    seeded generator, so a run is repeatable when requests arrive in the same order.
    """

    def __init__(self, seed: int) -> None:
        self._settings: dict[str, FaultSettings] = {}
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def set(self, endpoint: str, **kwargs: Any) -> FaultSettings:
        """Replace the settings of ``endpoint`` ("*" for every endpoint)."""
        if endpoint != ANY_ENDPOINT and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {ENDPOINTS}")
        settings = FaultSettings.from_kwargs(**kwargs)
        with self._lock:
            self._settings[endpoint] = settings
        return settings

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._settings.clear()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Current settings per endpoint, for the control API."""
        with self._lock:
            return {k: dict(vars(v)) for k, v in self._settings.items()}

    def plan(self, endpoint: str) -> FaultPlan:
        """Decide what happens to one request to ``endpoint``."""
        with self._lock:
            settings = self._settings.get(endpoint) or self._settings.get(ANY_ENDPOINT)
            if settings is None:
                return FaultPlan()
            if settings.burst > 0:
                settings.burst -= 1
                return FaultPlan(settings.latency, "burst", 503)
            draw = self._rng.random
            if settings.timeout_rate and draw() < settings.timeout_rate:
                return FaultPlan(settings.latency, "timeout")
            if settings.error_rate and draw() < settings.error_rate:
                return FaultPlan(settings.latency, "error", self._rng.choice((500, 502, 503)))
            if settings.malformed_rate and draw() < settings.malformed_rate:
                return FaultPlan(settings.latency, "malformed", 200)
            if settings.error_after_store_rate and draw() < settings.error_after_store_rate:
                return FaultPlan(settings.latency, "error_after_store", 500)
            return FaultPlan(settings.latency)
