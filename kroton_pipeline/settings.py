"""Typed settings read from the environment (SPEC §9).

One switch, ``KROTON_ENV``, picks the environment. ``sandbox`` (the default) points every
external system at the local Kroton simulator with its documented credentials, so a fresh
checkout runs with nothing configured. ``staging`` and ``production`` use Kroton's real base
URLs and refuse to start while a credential is missing, naming each one.

Secrets are read here only to validate that they are present; Dagster resources read them
again through ``EnvVar`` so that their values never appear in run configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Environment = Literal["sandbox", "staging", "production"]
ENVIRONMENTS: tuple[Environment, ...] = ("sandbox", "staging", "production")

SANDBOX_DEFAULT_PORT = 8765
DEFAULT_DATABASE_URL = "sqlite:///kroton_pipeline.db"
DEFAULT_LANDING_URL = "landing"
# The first day that has partitions (import dates and follow-up snapshot dates).
DEFAULT_FIRST_IMPORT_DATE = "2026-01-01"

# Credentials every real environment must be given; the sandbox has documented defaults.
REQUIRED_SECRETS: tuple[str, ...] = (
    "API_KROTON_CLIENT_ID",
    "API_KROTON_SECRET",
    "API_KROTON_SUBSCRIPTION",
    "API_KROTON_EMAIL",
    "API_KROTON_PASSWORD",
    "CATALOG_KROTON_API_KEY",
)

SANDBOX_CREDENTIALS: dict[str, str] = {
    "API_KROTON_CLIENT_ID": "sandbox-client",
    "API_KROTON_SECRET": "sandbox-secret",
    "API_KROTON_SUBSCRIPTION": "sandbox-subscription",
    "API_KROTON_EMAIL": "sandbox@example.com",
    "API_KROTON_PASSWORD": "sandbox-password",
    "CATALOG_KROTON_API_KEY": "sandbox-api-key",
}

# Base URLs of the source document (section "Ambientes Disponíveis" and the catalog table).
REAL_BASE_URLS: dict[str, dict[str, str]] = {
    "staging": {
        "API_KROTON_BASE_URL": "https://ingresso-api-stg-portal.krthomolog.com.br",
        "API_KROTON_BASE_URL_CAPTACAO": "https://ingresso-api-stg-portal.krthomolog.com.br",
        "CATALOG_KROTON_BASE_URL": "https://captacao-aks-stg.krthomolog.com.br",
    },
    "production": {
        "API_KROTON_BASE_URL": "https://ingresso-api-portal.kroton.com.br",
        "API_KROTON_BASE_URL_CAPTACAO": "https://ingresso-api-portal.kroton.com.br",
        "CATALOG_KROTON_BASE_URL": "https://captacao-aks.kroton.com.br",
    },
}


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable, never its value."""


def sandbox_base_urls(port: int = SANDBOX_DEFAULT_PORT, host: str = "127.0.0.1") -> dict[str, str]:
    """Base URLs of a sandbox server listening on ``host:port``."""
    root = f"http://{host}:{port}"
    return {
        "API_KROTON_BASE_URL": f"{root}/kroton",
        "API_KROTON_BASE_URL_CAPTACAO": f"{root}/captacao",
        "CATALOG_KROTON_BASE_URL": f"{root}/catalog",
    }


@dataclass(frozen=True)
class BusinessRules:
    """Values the source document hard-codes; here they are configuration."""

    sales_channel_id: int = 85
    affiliate_id: str = "DL00QUERO12991"
    exam_type_id: int = 1
    # Kroton's payload requires an RG the export does not carry; the source service sends
    # this placeholder.
    rg_placeholder: str = "20000000"
    gender_min_ratio: float = 0.9
    min_age: int = 16
    max_age: int = 100
    success_rate_threshold: float = 0.9
    # Share of the daily Kroton budget the follow-up may use; registrations come first.
    follow_up_share: float = 0.3


@dataclass(frozen=True)
class RateBudget:
    """Requests allowed per window for one external API, shared by the whole deployment."""

    requests: int = 100
    window_seconds: float = 300.0


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline reads from its environment."""

    env: Environment
    database_url: str
    landing_url: str
    kroton_base_url: str
    captacao_base_url: str
    catalog_base_url: str
    kroton_client_id: str
    kroton_secret: str = field(repr=False)
    kroton_subscription_key: str = field(repr=False)
    captacao_email: str = field(repr=False)
    captacao_password: str = field(repr=False)
    catalog_api_key: str = field(repr=False)
    catalog_auth_scheme: Literal["apiKey", "Bearer"] = "apiKey"
    # Route the three CPF look-ups through the Captação API instead of the main API.
    lookups_via_captacao: bool = False
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_channel: str | None = None
    kroton_budget: RateBudget = RateBudget()
    catalog_budget: RateBudget = RateBudget()
    rules: BusinessRules = BusinessRules()

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_channel)

    @property
    def is_sandbox(self) -> bool:
        return self.env == "sandbox"


def _get(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _number(environ: Mapping[str, str], name: str, default: float, kind: type = float) -> float:
    raw = _get(environ, name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number") from exc
    if value <= 0:
        raise SettingsError(f"{name} must be greater than zero")
    return value


def get_env(environ: Mapping[str, str] | None = None) -> Environment:
    """The environment named by ``KROTON_ENV`` (default ``sandbox``)."""
    environ = os.environ if environ is None else environ
    env = (_get(environ, "KROTON_ENV") or "sandbox").lower()
    if env not in ENVIRONMENTS:
        raise SettingsError(f"KROTON_ENV must be one of {', '.join(ENVIRONMENTS)}")
    return env  # type: ignore[return-value]


def missing_credentials(environ: Mapping[str, str] | None = None) -> list[str]:
    """Names of the required credentials that are not set (always empty in the sandbox)."""
    environ = os.environ if environ is None else environ
    if get_env(environ) == "sandbox":
        return []
    return [name for name in REQUIRED_SECRETS if _get(environ, name) is None]


def first_import_date(environ: Mapping[str, str] | None = None) -> str:
    """``KROTON_FIRST_IMPORT_DATE`` (YYYY-MM-DD): where the daily partitions start.

    Set it to the day the pipeline went live, so the UI lists only dates that can have an
    export (the demo sets it to its first import date).
    """
    environ = os.environ if environ is None else environ
    raw = _get(environ, "KROTON_FIRST_IMPORT_DATE") or DEFAULT_FIRST_IMPORT_DATE
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError as exc:
        raise SettingsError("KROTON_FIRST_IMPORT_DATE must be a date (YYYY-MM-DD)") from exc


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise :class:`SettingsError` naming what is wrong."""
    environ = os.environ if environ is None else environ
    env = get_env(environ)
    missing = missing_credentials(environ)
    if missing:
        raise SettingsError(
            f"KROTON_ENV={env} refuses to start: missing credential(s) {', '.join(missing)}"
        )
    if env == "sandbox":
        port = int(_number(environ, "KROTON_SANDBOX_PORT", SANDBOX_DEFAULT_PORT, int))
        urls = sandbox_base_urls(port)
        secrets = SANDBOX_CREDENTIALS
    else:
        urls = REAL_BASE_URLS[env]
        secrets = {}

    def value(name: str) -> str:
        found = _get(environ, name) or secrets.get(name) or urls.get(name)
        if found is None:  # pragma: no cover - guarded by missing_credentials
            raise SettingsError(f"{name} is not set")
        return found

    for share in (
        "KROTON_FOLLOW_UP_SHARE",
        "KROTON_GENDER_MIN_RATIO",
        "KROTON_SUCCESS_RATE_THRESHOLD",
    ):
        if _number(environ, share, 0.5) > 1:
            raise SettingsError(f"{share} is a share: it must be between 0 and 1")

    scheme = _get(environ, "CATALOG_KROTON_AUTH_SCHEME") or (
        "Bearer" if env == "staging" else "apiKey"
    )
    if scheme not in ("apiKey", "Bearer"):
        raise SettingsError("CATALOG_KROTON_AUTH_SCHEME must be apiKey or Bearer")

    return Settings(
        env=env,
        database_url=_get(environ, "KROTON_DATABASE_URL") or DEFAULT_DATABASE_URL,
        landing_url=_get(environ, "KROTON_LANDING_URL") or DEFAULT_LANDING_URL,
        kroton_base_url=value("API_KROTON_BASE_URL").rstrip("/"),
        captacao_base_url=value("API_KROTON_BASE_URL_CAPTACAO").rstrip("/"),
        catalog_base_url=value("CATALOG_KROTON_BASE_URL").rstrip("/"),
        kroton_client_id=value("API_KROTON_CLIENT_ID"),
        kroton_secret=value("API_KROTON_SECRET"),
        kroton_subscription_key=value("API_KROTON_SUBSCRIPTION"),
        captacao_email=value("API_KROTON_EMAIL"),
        captacao_password=value("API_KROTON_PASSWORD"),
        catalog_api_key=value("CATALOG_KROTON_API_KEY"),
        catalog_auth_scheme=scheme,  # type: ignore[arg-type]
        lookups_via_captacao=(_get(environ, "KROTON_LOOKUPS_VIA_CAPTACAO") or "").lower()
        in ("1", "true", "yes"),
        slack_bot_token=_get(environ, "SLACK_BOT_TOKEN"),
        slack_channel=_get(environ, "SLACK_CHANNEL"),
        kroton_budget=RateBudget(
            requests=int(_number(environ, "KROTON_RATE_LIMIT", 100, int)),
            window_seconds=_number(environ, "KROTON_RATE_WINDOW_SECONDS", 300.0),
        ),
        catalog_budget=RateBudget(
            requests=int(_number(environ, "CATALOG_RATE_LIMIT", 100, int)),
            window_seconds=_number(environ, "CATALOG_RATE_WINDOW_SECONDS", 300.0),
        ),
        rules=BusinessRules(
            gender_min_ratio=_number(environ, "KROTON_GENDER_MIN_RATIO", 0.9),
            success_rate_threshold=_number(environ, "KROTON_SUCCESS_RATE_THRESHOLD", 0.9),
            follow_up_share=_number(environ, "KROTON_FOLLOW_UP_SHARE", 0.3),
        ),
    )
