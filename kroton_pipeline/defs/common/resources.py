"""The pipeline's Dagster resources, and the one place that picks them for KROTON_ENV.

Sections, in the order of the code:

**resources**: Dagster resources for Kroton, Captação and the catalog.

Each resource is configuration only; the client it builds lives for one run (or one step
process under the multiprocess executor): :meth:`setup_for_execution` creates it, so every op
of the run shares one connection pool, one cached token and one set of counters, and
:meth:`teardown_after_execution` closes it. Assets call ``resource.get_client()``.

Secrets come through ``EnvVar`` (see ``definitions.py``); ``database_url`` names the database
that holds the deployment-wide rate budget (no URL: a budget for this process only).

**resources**: Resources, and the one place that picks them for KROTON_ENV.

The sandbox gets its documented credentials as plain values; staging and production read
every secret through ``EnvVar``, so values never appear in run configuration, and refuse to
load while one is missing (``load_settings`` names each missing variable).
"""

from __future__ import annotations

from dataclasses import asdict
from functools import cached_property
from typing import Any, Literal

import dagster as dg
from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr
from sqlalchemy import Engine

from kroton_pipeline.clients.captacao import CaptacaoClient
from kroton_pipeline.clients.kroton import CatalogClient, HealthResult, KrotonClient
from kroton_pipeline.clients.transport import RetryPolicy, make_budget
from kroton_pipeline.db.engine import make_engine, upgrade
from kroton_pipeline.settings import (
    API_FORMATS,
    BusinessRules,
    KrotonApiFormat,
    Settings,
    load_settings,
)

_SOURCE = API_FORMATS["source"]


class _ApiResource(ConfigurableResource):
    """Settings every external API shares: base URL, budget, retries."""

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


class _KrotonFormatFields(_ApiResource):
    """How Kroton's API is spoken (``KROTON_API_DIALECT`` and its overrides)."""

    api_dialect: str = Field("source", description="source (design document) or v5.")
    token_path: str = Field(_SOURCE.token_path, description="OAuth2 token endpoint.")
    inscriptions_by_cpf_path: str = Field(
        _SOURCE.inscriptions_by_cpf_path, description="CPF look-up; {cpf} is replaced."
    )
    enrolments_by_cpf_path: str = Field(
        _SOURCE.enrolments_by_cpf_path, description="Enrolment look-up; {cpf} is replaced."
    )
    inscription_status_path: str = Field(
        _SOURCE.inscription_status_path,
        description="One inscription's state; {inscricao} and {sistema} are replaced.",
    )
    register_path: str = Field(_SOURCE.register_path, description="Registration POST.")
    cpf_in_url: Literal["digits", "punctuated"] = Field(
        _SOURCE.cpf_in_url, description="The CPF in look-up URLs: 11 digits or 000.000.000-00."
    )
    token_scope: bool = Field(True, description="Send scope=<subscription key> for a token.")
    token_subscription_header: bool = Field(
        True, description="Send the subscription-key header on the token request too."
    )
    lookup_404_is_empty: bool = Field(
        False, description="Read a 404 on a CPF look-up as 'no inscription'."
    )
    lookup_timeout_seconds: float = Field(60.0, description="Timeout of look-ups.")
    token_timeout_seconds: float = Field(30.0, description="Timeout of token requests.")
    register_timeout_seconds: float = Field(
        120.0, description="Timeout of the registration POST (a slow answer is an unknown)."
    )

    def api_format(self) -> KrotonApiFormat:
        """These fields as the clients' :class:`KrotonApiFormat`."""
        return KrotonApiFormat(
            dialect="v5" if self.api_dialect == "v5" else "source",
            token_path=self.token_path,
            inscriptions_by_cpf_path=self.inscriptions_by_cpf_path,
            enrolments_by_cpf_path=self.enrolments_by_cpf_path,
            inscription_status_path=self.inscription_status_path,
            register_path=self.register_path,
            cpf_in_url=self.cpf_in_url,
            token_scope=self.token_scope,
            token_subscription_header=self.token_subscription_header,
            lookup_404_is_empty=self.lookup_404_is_empty,
            token_timeout_seconds=self.token_timeout_seconds,
            lookup_timeout_seconds=self.lookup_timeout_seconds,
            register_timeout_seconds=self.register_timeout_seconds,
        )


def api_format_fields(api_format: KrotonApiFormat) -> dict[str, object]:
    """Resource field values for ``api_format`` (the inverse of ``api_format()``)."""
    values = {name: getattr(api_format, name) for name in KrotonApiFormat.__dataclass_fields__}
    values["api_dialect"] = values.pop("dialect")
    return values


class CaptacaoResource(_KrotonFormatFields):
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
            api_format=self.api_format(),
            budget=self._budget(),
            policy=self._policy(),
            token_margin_seconds=self.token_margin_seconds,
            log=self._log,
        )

    def get_client(self) -> CaptacaoClient:
        return super().get_client()


class KrotonResource(_KrotonFormatFields):
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
            api_format=self.api_format(),
            budget=self._budget(),
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
    auth_scheme: Literal["apiKey", "Bearer", "none"] = "apiKey"
    timeout_seconds: float = Field(30.0, description="Timeout of a search.")

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


class DatabaseResource(dg.ConfigurableResource):
    """The project's database (system of record). Brought to the latest schema on first use."""

    url: str = Field(description="SQLAlchemy URL of the pipeline's database (KROTON_DATABASE_URL).")
    migrate: bool = Field(
        True,
        description=(
            "Bring the schema to the latest migration on first use (KROTON_MIGRATE_ON_RUN; "
            "off when the deploy step migrates once)."
        ),
    )
    claim_ttl_seconds: float = Field(
        600.0,
        description=(
            "How long a run's claim on a lead lasts before another run may take it "
            "(KROTON_CLAIM_TTL_SECONDS)."
        ),
    )

    _engine: Engine | None = PrivateAttr(default=None)

    def get_engine(self) -> Engine:
        if self._engine is None:
            if self.migrate:
                upgrade(self.url)
            self._engine = make_engine(self.url)
        return self._engine


class LandingResource(dg.ConfigurableResource):
    """Where the Databricks exports land: a local folder or an object-store URL."""

    url: str = Field(description="Folder or fsspec URL of leads_YYYY-MM-DD.csv|parquet files.")


class RulesResource(dg.ConfigurableResource):
    """Business values the source document hard-codes: all of them are settings.

    The same fields as :class:`~kroton_pipeline.settings.BusinessRules` (which reads them
    from the environment); Dagster needs them declared to show and check them as config.
    """

    sales_channel_id: int = Field(85, description="inscricao.canalVendas.id of every payload.")
    affiliate_id: str = Field("DL00QUERO12991", description="inscricao.idAfiliado.")
    exam_type_id: int = Field(1, description="inscricao.idTipoProva.")
    rg_placeholder: str = Field("20000000", description="dadosPessoais.rg (not in the export).")
    gender_min_ratio: float = Field(
        0.9, description="Majority share a first name needs to give a gender."
    )
    min_age: int = Field(16, description="Youngest age accepted at import.")
    max_age: int = Field(100, description="Oldest age accepted at import.")
    success_rate_threshold: float = Field(
        0.9, description="The registration success-rate check warns below this share."
    )
    follow_up_share: float = Field(
        0.3, description="Share of the daily Kroton budget the follow-up may always use."
    )
    payload_extras: bool = Field(
        False,
        description=(
            "Add aceiteTermo, aceitaReceber*, anoConclusao, enem and endereco.bairro to the "
            "payload (on by default in the v5 dialect)."
        ),
    )
    accept_terms: bool = Field(True, description="inscricao.aceiteTermo.")
    accept_email: bool = Field(False, description="inscricao.aceitaReceberEmail.")
    accept_sms: bool = Field(False, description="inscricao.aceitaReceberSMS.")
    accept_whatsapp: bool = Field(False, description="inscricao.aceitaReceberWhatsApp.")
    use_enem: bool = Field(False, description="inscricao.enem.utilizar.")
    neighbourhood_placeholder: str = Field(
        "Centro", description="dadosPessoais.endereco.bairro (not in the export)."
    )
    completion_year: int = Field(
        0, description="inscricao.anoConclusao; 0: the year the lead turned 18 (max last year)."
    )
    precheck_stale_days: int = Field(
        365, description="An inscription older than this belongs to an earlier intake cycle."
    )
    tracking_grace_days: int = Field(
        60, description="Days a lead is followed after its offer's inscription window closes."
    )
    tracking_horizon_days: int = Field(
        365, description="Days a lead is followed when no inscription window is known."
    )
    tracking_max_interval_days: int = Field(
        14, description="The longest wait between two looks at a tracked lead."
    )
    tracking_classified_interval_days: int = Field(
        3, description="Days between looks while Kroton says Classificado."
    )
    gender_unknown_policy: str = Field(
        "hold",
        description="Leads whose gender stays NI: hold (register_failed) or send (as below).",
    )
    gender_unknown_send_as: str = Field("F", description="The gender sent under 'send'.")

    @cached_property
    def rules(self) -> BusinessRules:
        return BusinessRules(**self.model_dump())


def _secret(settings: Settings, name: str, sandbox_value: str) -> Any:
    return sandbox_value if settings.is_sandbox else dg.EnvVar(name)


def resources_for_environment(settings: Settings | None = None) -> dict[str, Any]:
    """The resources bound for the environment named by KROTON_ENV."""
    settings = settings or load_settings()
    # A production URL carries the database password: keep it out of the UI's run config.
    database_url = (
        dg.EnvVar("KROTON_DATABASE_URL")
        if not settings.is_sandbox and settings.database_url_from_environment
        else settings.database_url
    )
    # Captação draws from Kroton's budget (one budget unless configured otherwise).
    captacao = CaptacaoResource(
        base_url=settings.captacao_base_url,
        email=_secret(settings, "API_KROTON_EMAIL", settings.captacao_email),
        password=_secret(settings, "API_KROTON_PASSWORD", settings.captacao_password),
        subscription_key=_secret(
            settings, "API_KROTON_SUBSCRIPTION", settings.kroton_subscription_key
        ),
        rate_limit=settings.kroton_budget.requests,
        rate_window_seconds=settings.kroton_budget.window_seconds,
        rate_bucket="kroton",
        database_url=database_url,
        **api_format_fields(settings.api_format),
    )
    # A landing URL may carry credentials (sftp://user:pass@host/...): then it, too, reaches
    # Dagster only through EnvVar.
    landing_url = (
        dg.EnvVar("KROTON_LANDING_URL") if settings.landing_url_has_secret else settings.landing_url
    )
    return {
        "database": DatabaseResource(
            url=database_url,
            migrate=settings.migrate_on_run,
            claim_ttl_seconds=settings.claim_ttl_seconds,
        ),
        "landing": LandingResource(url=landing_url),
        "rules": RulesResource(**asdict(settings.rules)),
        "kroton": KrotonResource(
            base_url=settings.kroton_base_url,
            client_id=_secret(settings, "API_KROTON_CLIENT_ID", settings.kroton_client_id),
            client_secret=_secret(settings, "API_KROTON_SECRET", settings.kroton_secret),
            subscription_key=_secret(
                settings, "API_KROTON_SUBSCRIPTION", settings.kroton_subscription_key
            ),
            rate_limit=settings.kroton_budget.requests,
            rate_window_seconds=settings.kroton_budget.window_seconds,
            database_url=database_url,
            lookups_via_captacao=settings.lookups_via_captacao,
            captacao=captacao if settings.lookups_via_captacao else None,
            **api_format_fields(settings.api_format),
        ),
        "captacao": captacao,
        "catalog": CatalogResource(
            base_url=settings.catalog_base_url,
            api_key=(
                ""
                if settings.catalog_auth_scheme == "none"
                else _secret(settings, "CATALOG_KROTON_API_KEY", settings.catalog_api_key)
            ),
            auth_scheme=settings.catalog_auth_scheme,
            rate_limit=settings.catalog_budget.requests,
            rate_window_seconds=settings.catalog_budget.window_seconds,
            database_url=database_url,
        ),
    }
