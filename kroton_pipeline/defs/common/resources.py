"""Resources, and the one place that picks them for KROTON_ENV.

The sandbox gets its documented credentials as plain values; staging and production read
every secret through ``EnvVar``, so values never appear in run configuration, and refuse to
load while one is missing (``load_settings`` names each missing variable).
"""

from __future__ import annotations

from dataclasses import asdict
from functools import cached_property
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr
from sqlalchemy import Engine

from kroton_pipeline.clients.resources import (
    CaptacaoResource,
    CatalogResource,
    KrotonResource,
    api_format_fields,
)
from kroton_pipeline.db.engine import make_engine
from kroton_pipeline.db.migrate import upgrade
from kroton_pipeline.settings import BusinessRules, Settings, load_settings


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
