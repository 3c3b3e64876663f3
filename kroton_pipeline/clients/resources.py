"""Dagster resources for Kroton, Captação and the catalog.

Each resource is configuration only; the client it builds lives for one run (or one step
process under the multiprocess executor): :meth:`setup_for_execution` creates it, so every op
of the run shares one connection pool, one cached token and one set of counters, and
:meth:`teardown_after_execution` closes it. Assets call ``resource.get_client()``.

Secrets come through ``EnvVar`` (see ``definitions.py``); ``database_url`` names the database
that holds the deployment-wide rate budget (no URL: a budget for this process only).
"""

from __future__ import annotations

from typing import Any, Literal

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr

from kroton_pipeline.clients.captacao import CaptacaoClient
from kroton_pipeline.clients.catalog import CatalogClient
from kroton_pipeline.clients.kroton import KrotonClient
from kroton_pipeline.clients.models import HealthResult
from kroton_pipeline.clients.rate_limit import make_budget
from kroton_pipeline.clients.transport import RetryPolicy


class _ApiResource(ConfigurableResource):
    """Settings every external API shares: base URL, budget, timeouts, retries."""

    base_url: str
    rate_limit: int = Field(100, description="Requests allowed per window, deployment-wide.")
    rate_window_seconds: float = Field(300.0, description="Length of the rate window.")
    rate_safety_margin_seconds: float | None = Field(
        None, description="Added to the window (default: 1 % of it, at least 0.25 s)."
    )
    rate_bucket: str = Field("", description="Budget name; resources with one name share it.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the database that holds the shared budget."
    )
    timeout_seconds: float = 30.0
    max_attempts: int = Field(5, description="Attempts per request on transient failures.")
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 30.0

    _client: Any = PrivateAttr(default=None)
    _log: Any = PrivateAttr(default=None)

    _system = ""

    def _budget(self):
        return make_budget(
            self.database_url,
            self.rate_bucket or self._system,
            self.rate_limit,
            self.rate_window_seconds,
            safety_margin_seconds=self.rate_safety_margin_seconds,
        )

    def _policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            backoff_base_seconds=self.backoff_base_seconds,
            backoff_max_seconds=self.backoff_max_seconds,
        )

    def _build(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._log = getattr(context, "log", None)
        self._client = self._build()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def get_client(self) -> Any:
        """The run's client (built on first use outside a Dagster run)."""
        if self._client is None:
            self._client = self._build()
        return self._client

    def health(self) -> HealthResult:
        """The client's self-check (see each client's ``health``)."""
        return self.get_client().health()


class CaptacaoResource(_ApiResource):
    """Kroton Captação API (e-mail/password login; same look-ups as the main API)."""

    email: str
    password: str
    subscription_key: str | None = Field(
        None, description="Sent as Ocp-Apim-Subscription-Key when the gateway needs it."
    )
    token_margin_seconds: float = 300.0

    _system = "captacao"

    def _build(self) -> CaptacaoClient:
        return CaptacaoClient(
            base_url=self.base_url,
            email=self.email,
            password=self.password,
            subscription_key=self.subscription_key,
            budget=self._budget(),
            timeout_seconds=self.timeout_seconds,
            policy=self._policy(),
            token_margin_seconds=self.token_margin_seconds,
            log=self._log,
        )

    def get_client(self) -> CaptacaoClient:
        return super().get_client()


class KrotonResource(_ApiResource):
    """Kroton's main API. ``dry_run`` turns registration POSTs into recorded payloads.

    ``lookups_via_captacao`` routes the three CPF look-ups through ``captacao`` (which must
    then be set); registrations always use the main API.
    """

    client_id: str
    client_secret: str
    subscription_key: str
    dry_run: bool = Field(False, description="Send no mutating request; record the payloads.")
    token_margin_seconds: float = Field(
        30.0, description="Renew the token this long before expiry."
    )
    lookups_via_captacao: bool = False
    captacao: CaptacaoResource | None = None

    _system = "kroton"

    def _build(self) -> KrotonClient:
        lookups = None
        if self.lookups_via_captacao:
            if self.captacao is None:
                raise ValueError("KrotonResource.lookups_via_captacao needs the captacao resource")
            lookups = self.captacao.get_client()
        return KrotonClient(
            base_url=self.base_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            subscription_key=self.subscription_key,
            budget=self._budget(),
            timeout_seconds=self.timeout_seconds,
            policy=self._policy(),
            dry_run=self.dry_run,
            token_margin_seconds=self.token_margin_seconds,
            lookups=lookups,
            log=self._log,
        )

    def get_client(self) -> KrotonClient:
        return super().get_client()


class CatalogResource(_ApiResource):
    """The catalog middleware's offer search."""

    api_key: str
    auth_scheme: Literal["apiKey", "Bearer"] = "apiKey"

    _system = "catalog"

    def _build(self) -> CatalogClient:
        return CatalogClient(
            base_url=self.base_url,
            api_key=self.api_key,
            auth_scheme=self.auth_scheme,
            budget=self._budget(),
            timeout_seconds=self.timeout_seconds,
            policy=self._policy(),
            log=self._log,
        )

    def get_client(self) -> CatalogClient:
        return super().get_client()
