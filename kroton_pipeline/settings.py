"""Typed settings read from the environment, and the one clock.

Sections, in the order of the code:

**timeutil**: Time helpers: the database stores naive UTC timestamps; business dates are São
Paulo's.

**settings**: Typed settings read from the environment.

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
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

TIMEZONE = "America/Sao_Paulo"


SAO_PAULO = ZoneInfo(TIMEZONE)


def utcnow() -> datetime:
    """Now as a naive UTC datetime: the one clock every timestamp column is written with.

    The server defaults (``now()``) stay as a fallback for hand-written SQL, but PostgreSQL's
    ``now()`` is in the session time zone, so Python writes the value whenever it can.
    """
    return datetime.now(UTC).replace(tzinfo=None)


def today_in_sao_paulo() -> date:
    return datetime.now(SAO_PAULO).date()


Environment = Literal["sandbox", "staging", "production"]


ENVIRONMENTS: tuple[Environment, ...] = ("sandbox", "staging", "production")


SANDBOX_DEFAULT_PORT = 8765


DEFAULT_DATABASE_URL = "sqlite:///kroton_pipeline.db"


DEFAULT_LANDING_URL = "landing"


DEFAULT_WEBSERVER_URL = "http://localhost:3000"


DEFAULT_SLACK_API_URL = "https://slack.com/api/"


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
    # Keys the digests of erased people: without it the erasures would be reversible.
    "KROTON_ERASURE_KEY",
)


# The sandbox's erasure key (it holds no real people); real environments must set theirs.
SANDBOX_ERASURE_KEY = "kroton-pipeline-sandbox-erasure"


# How long a run's claim on a lead lasts (the claims of db.status_changes); renewed before
# each request that changes something at Kroton, so it must outlast the registration POST's
# timeout.
DEFAULT_CLAIM_TTL_SECONDS = 600.0


SANDBOX_CREDENTIALS: dict[str, str] = {
    "API_KROTON_CLIENT_ID": "sandbox-client",
    "API_KROTON_SECRET": "sandbox-secret",
    "API_KROTON_SUBSCRIPTION": "sandbox-subscription",
    "API_KROTON_EMAIL": "sandbox@example.com",
    "API_KROTON_PASSWORD": "sandbox-password",
    "CATALOG_KROTON_API_KEY": "sandbox-api-key",
    "KROTON_ERASURE_KEY": SANDBOX_ERASURE_KEY,
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


ApiDialect = Literal["source", "v5"]


API_DIALECTS: tuple[ApiDialect, ...] = ("source", "v5")


CpfInUrl = Literal["digits", "punctuated"]


@dataclass(frozen=True)
class KrotonApiFormat:
    """How Kroton's API is spoken: endpoint paths, CPF format in URLs, token request, timeouts.

    ``KROTON_API_DIALECT`` picks every default at once (:data:`API_FORMATS`): ``source``, the
    design document's, or ``v5``, what production integrations use. Each value can then be
    overridden on its own. Paths take ``{cpf}``, ``{inscricao}`` and ``{sistema}``.
    """

    dialect: ApiDialect = "source"
    token_path: str = "/oauth2/token"
    inscriptions_by_cpf_path: str = "/ms/inscricaocqrs/captacao/v5/inscricao/cpf/{cpf}"
    enrolments_by_cpf_path: str = "/ms/matricula/captacao/v1/ms/matricula/candidato/cpf/{cpf}"
    inscription_status_path: str = (
        "/ms/inscricao/v4/captacao/inscricao/{inscricao}/sistema/{sistema}"
    )
    register_path: str = "/ms/inscricao/v4/captacao/inscricao"
    cpf_in_url: CpfInUrl = "digits"
    # The design document sends scope=<subscription key>; production integrations send none,
    # and no subscription-key header on the token request.
    token_scope: bool = True
    token_subscription_header: bool = True
    # A 404 on a CPF look-up read as "no inscription" (off: a 404 is an error, since a wrong
    # path also answers 404 and would make every lead look new).
    lookup_404_is_empty: bool = False
    token_timeout_seconds: float = 30.0
    lookup_timeout_seconds: float = 60.0
    # A registration Kroton is slow to answer becomes an unknown outcome: give it time.
    register_timeout_seconds: float = 120.0


API_FORMATS: dict[ApiDialect, KrotonApiFormat] = {
    "source": KrotonApiFormat(),
    "v5": KrotonApiFormat(
        dialect="v5",
        inscription_status_path="/ms/inscricaocqrs/captacao/v5/inscricao/{inscricao}",
        register_path="/ms/inscricaocqrs/captacao/v5/inscricao",
        cpf_in_url="punctuated",
        token_scope=False,
        token_subscription_header=False,
    ),
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
    # Fields production integrations add to the payload (on by default in the v5 dialect):
    # aceiteTermo, aceitaReceberEmail/SMS/WhatsApp, anoConclusao, enem.utilizar and
    # endereco.bairro. The export carries no consent, so marketing consents default to no.
    payload_extras: bool = False
    accept_terms: bool = True
    accept_email: bool = False
    accept_sms: bool = False
    accept_whatsapp: bool = False
    use_enem: bool = False
    # The export has no neighbourhood; real integrations send this placeholder.
    neighbourhood_placeholder: str = "Centro"
    # High-school completion year; 0: the year the lead turned 18, at most last year.
    completion_year: int = 0
    gender_min_ratio: float = 0.9
    min_age: int = 16
    max_age: int = 100
    success_rate_threshold: float = 0.9
    # Share of the daily Kroton budget the follow-up may use; registrations come first.
    follow_up_share: float = 0.3
    # The pre-check: an inscription older than this belongs to an earlier intake cycle.
    precheck_stale_days: int = 365
    # Tracking (domain.kroton_api): followed until the inscription window closes plus a grace,
    # or for a horizon when no window is known; never more than max_interval days unseen.
    tracking_grace_days: int = 60
    tracking_horizon_days: int = 365
    tracking_max_interval_days: int = 14
    tracking_classified_interval_days: int = 3
    # A lead whose gender stays unknown (NI): "hold" it (register_failed, gender_unknown), or
    # "send" it with gender_unknown_send_as (Kroton accepts only M or F).
    gender_unknown_policy: str = "hold"
    gender_unknown_send_as: str = "F"


@dataclass(frozen=True)
class RateQuota:
    """Requests allowed per window for one external API, shared by the whole deployment."""

    requests: int = 100
    window_seconds: float = 300.0


@dataclass(frozen=True)
class StuckThresholds:
    """When a lead counts as stuck (``reporting.stuck_leads``): still before ``registered``
    this many hours after its import, or ``awaiting_register`` (Kroton processing) this long."""

    after_hours: float = 24.0
    awaiting_hours: float = 6.0


def load_stuck_thresholds(environ: Mapping[str, str] | None = None) -> StuckThresholds:
    """``KROTON_STUCK_AFTER_HOURS`` (default 24) and ``KROTON_STUCK_AWAITING_HOURS`` (6)."""
    environ = os.environ if environ is None else environ
    return StuckThresholds(
        after_hours=_number(environ, "KROTON_STUCK_AFTER_HOURS", StuckThresholds.after_hours),
        awaiting_hours=_number(
            environ, "KROTON_STUCK_AWAITING_HOURS", StuckThresholds.awaiting_hours
        ),
    )


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline reads from its environment."""

    env: Environment
    database_url: str
    landing_url: str
    kroton_base_url: str
    captacao_base_url: str
    catalog_base_url: str
    kroton_client_id: str = field(repr=False)
    kroton_secret: str = field(repr=False)
    kroton_subscription_key: str = field(repr=False)
    captacao_email: str = field(repr=False)
    captacao_password: str = field(repr=False)
    catalog_api_key: str = field(repr=False)
    # "none": the middleware wants no Authorization header (the design document notes
    # production once needed none).
    catalog_auth_scheme: Literal["apiKey", "Bearer", "none"] = "apiKey"
    # Route the three CPF look-ups through the Captação API instead of the main API.
    lookups_via_captacao: bool = False
    slack_bot_token: str | None = field(default=None, repr=False)
    # The design document's way: an incoming webhook (its URL is the secret).
    slack_webhook_url: str | None = field(default=None, repr=False)
    slack_channel: str | None = None
    # Slack's Web API (SLACK_API_URL): tests point it at a local stand-in.
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # The Dagster UI, for run links in Slack messages (DAGSTER_WEBSERVER_URL).
    webserver_url: str = DEFAULT_WEBSERVER_URL
    # Where asset code links point (KROTON_GIT_URL, KROTON_GIT_BRANCH); none: local files.
    git_url: str | None = None
    git_branch: str = "main"
    kroton_budget: RateQuota = RateQuota()
    catalog_budget: RateQuota = RateQuota()
    rules: BusinessRules = BusinessRules()
    api_format: KrotonApiFormat = KrotonApiFormat()
    stuck: StuckThresholds = StuckThresholds()
    erasure_keys: tuple[str, ...] = field(default=(SANDBOX_ERASURE_KEY,), repr=False)
    claim_ttl_seconds: float = DEFAULT_CLAIM_TTL_SECONDS
    # Bring the schema to the latest migration when a run first uses the database (off when
    # the deploy step migrates once: `python -m kroton_pipeline.db upgrade`).
    migrate_on_run: bool = True
    # How often the landing sensor looks (an export without a marker is complete once it
    # stayed the same for two looks).
    landing_sensor_interval_seconds: int = 60

    def __repr__(self) -> str:
        """The settings with every secret left out and passwords in URLs masked."""
        shown = {
            name: getattr(self, name)
            for name, spec in self.__dataclass_fields__.items()
            if spec.repr
        }
        shown["database_url"] = mask_url_secret(self.database_url)
        shown["landing_url"] = mask_url_secret(self.landing_url)
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    @property
    def landing_url_has_secret(self) -> bool:
        """Whether the landing URL carries credentials (``sftp://user:pass@host/...``)."""
        return mask_url_secret(self.landing_url) != self.landing_url

    @property
    def database_url_from_environment(self) -> bool:
        """Whether ``KROTON_DATABASE_URL`` gave the database URL (not the built-in default)."""
        return self.database_url != DEFAULT_DATABASE_URL

    @property
    def slack_enabled(self) -> bool:
        """Slack is on with an incoming webhook, or with a bot token and a channel."""
        return bool(self.slack_webhook_url or (self.slack_bot_token and self.slack_channel))

    @property
    def is_sandbox(self) -> bool:
        return self.env == "sandbox"


def mask_url_secret(url: str) -> str:
    """``scheme://user:***@host/...``: the URL without its password (or token) shown."""
    parts = urlsplit(url)
    if not parts.netloc or "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@dataclass(frozen=True)
class AlertThresholds:
    """When an alert starts. Each is an environment variable (see README "Slack")."""

    # Seconds one run spent waiting for a rate budget (shared budget + Retry-After).
    rate_limit_wait_seconds: float = 60.0
    # Relative change of today's exported rows vs the mean of the trailing 7 import dates.
    import_volume_change: float = 0.5
    # Import dates needed in the trailing window before the volume is judged at all.
    import_volume_min_history: int = 3
    # Retries per request of one API in one run, judged once a run made enough requests.
    retry_share: float = 0.2
    retry_min_requests: int = 20
    # The design document's healthy indicators: success rate over 90 % ("investigate" under
    # 80 %), judged once enough leads of the run's dates were sent; import -> registration
    # under 24 h (the median of the run's dates).
    success_rate_warn: float = 0.9
    success_rate_investigate: float = 0.8
    success_rate_min_sent: int = 10
    registration_hours: float = 24.0


_ALERT_VARIABLES: dict[str, tuple[str, type]] = {
    "rate_limit_wait_seconds": ("KROTON_ALERT_RATE_LIMIT_WAIT_SECONDS", float),
    "import_volume_change": ("KROTON_ALERT_IMPORT_VOLUME_CHANGE", float),
    "import_volume_min_history": ("KROTON_ALERT_IMPORT_VOLUME_MIN_HISTORY", int),
    "retry_share": ("KROTON_ALERT_RETRY_SHARE", float),
    "retry_min_requests": ("KROTON_ALERT_RETRY_MIN_REQUESTS", int),
    "success_rate_warn": ("KROTON_SUCCESS_RATE_THRESHOLD", float),
    "success_rate_investigate": ("KROTON_ALERT_SUCCESS_RATE_INVESTIGATE", float),
    "success_rate_min_sent": ("KROTON_ALERT_SUCCESS_RATE_MIN_SENT", int),
    "registration_hours": ("KROTON_ALERT_REGISTRATION_HOURS", float),
}


def alert_thresholds(environ: Mapping[str, str] | None = None) -> AlertThresholds:
    """Thresholds from ``KROTON_ALERT_*`` variables; unset ones keep their defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, float | int] = {}
    for field_name, (variable, kind) in _ALERT_VARIABLES.items():
        raw = (environ.get(variable) or "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError as exc:
            raise SettingsError(f"{variable} must be a number") from exc
        if value < 0:
            raise SettingsError(f"{variable} must not be negative")
        values[field_name] = value
    return AlertThresholds(**values)  # type: ignore[arg-type]


def webserver_url(environ: Mapping[str, str] | None = None) -> str:
    """Base URL of the Dagster UI for run links (``DAGSTER_WEBSERVER_URL``)."""
    environ = os.environ if environ is None else environ
    return (_get(environ, "DAGSTER_WEBSERVER_URL") or "").rstrip("/") or DEFAULT_WEBSERVER_URL


def erasure_keys(environ: Mapping[str, str] | None = None) -> tuple[bytes, ...]:
    """The keys of the erased-people digests: ``KROTON_ERASURE_KEY`` first, then each of
    ``KROTON_ERASURE_OLD_KEYS`` (comma-separated), so that a rotated key keeps matching the
    digests made with the earlier ones. The sandbox has a built-in key; real environments
    refuse to start without one (:func:`load_settings`)."""
    environ = os.environ if environ is None else environ
    current = _get(environ, "KROTON_ERASURE_KEY")
    if current is None:
        if get_env(environ) != "sandbox":
            raise SettingsError("KROTON_ERASURE_KEY is not set")
        current = SANDBOX_ERASURE_KEY
    old = [key.strip() for key in (_get(environ, "KROTON_ERASURE_OLD_KEYS") or "").split(",")]
    return tuple(key.encode() for key in [current, *old] if key)


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


def _switch(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(environ, name)
    if raw is None:
        return default
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be on or off")


def load_api_format(environ: Mapping[str, str] | None = None) -> KrotonApiFormat:
    """The Kroton API format: ``KROTON_API_DIALECT``'s defaults, then each override."""
    environ = os.environ if environ is None else environ
    dialect = (_get(environ, "KROTON_API_DIALECT") or "source").lower()
    if dialect not in API_DIALECTS:
        raise SettingsError(f"KROTON_API_DIALECT must be one of {', '.join(API_DIALECTS)}")
    base = API_FORMATS[dialect]  # type: ignore[index]
    paths: dict[str, str] = {}
    for name, attribute in (
        ("KROTON_PATH_TOKEN", "token_path"),
        ("KROTON_PATH_INSCRIPTIONS_BY_CPF", "inscriptions_by_cpf_path"),
        ("KROTON_PATH_ENROLMENTS_BY_CPF", "enrolments_by_cpf_path"),
        ("KROTON_PATH_INSCRIPTION_STATUS", "inscription_status_path"),
        ("KROTON_PATH_REGISTER", "register_path"),
    ):
        path = _get(environ, name)
        if path is not None:
            if not path.startswith("/"):
                raise SettingsError(f"{name} must be a path starting with /")
            paths[attribute] = path
    cpf_in_url = (_get(environ, "KROTON_CPF_IN_URL") or base.cpf_in_url).lower()
    if cpf_in_url not in ("digits", "punctuated"):
        raise SettingsError("KROTON_CPF_IN_URL must be digits or punctuated")
    return replace(
        base,
        **paths,
        cpf_in_url=cpf_in_url,  # type: ignore[arg-type]
        token_scope=_switch(environ, "KROTON_TOKEN_SCOPE", base.token_scope),
        token_subscription_header=_switch(
            environ, "KROTON_TOKEN_SUBSCRIPTION_HEADER", base.token_subscription_header
        ),
        lookup_404_is_empty=_switch(
            environ, "KROTON_LOOKUP_404_IS_EMPTY", base.lookup_404_is_empty
        ),
        token_timeout_seconds=_number(
            environ, "KROTON_TIMEOUT_TOKEN_SECONDS", base.token_timeout_seconds
        ),
        lookup_timeout_seconds=_number(
            environ, "KROTON_TIMEOUT_LOOKUP_SECONDS", base.lookup_timeout_seconds
        ),
        register_timeout_seconds=_number(
            environ, "KROTON_TIMEOUT_REGISTER_SECONDS", base.register_timeout_seconds
        ),
    )


def load_rules(environ: Mapping[str, str], api_format: KrotonApiFormat) -> BusinessRules:
    """Business rules from the environment (payload extras default on in the v5 dialect)."""
    defaults = BusinessRules()
    policy = (_get(environ, "KROTON_GENDER_UNKNOWN_POLICY") or "hold").lower()
    if policy not in ("hold", "send"):
        raise SettingsError("KROTON_GENDER_UNKNOWN_POLICY must be hold or send")
    send_as = (_get(environ, "KROTON_GENDER_UNKNOWN_SEND_AS") or "F").upper()
    if send_as not in ("M", "F"):
        raise SettingsError("KROTON_GENDER_UNKNOWN_SEND_AS must be M or F")
    year = _get(environ, "KROTON_PAYLOAD_COMPLETION_YEAR")
    if year is not None and not (year.isdigit() and 1950 <= int(year) <= 2100):
        raise SettingsError("KROTON_PAYLOAD_COMPLETION_YEAR must be a year, e.g. 2017")
    return BusinessRules(
        gender_min_ratio=_number(environ, "KROTON_GENDER_MIN_RATIO", 0.9),
        success_rate_threshold=_number(environ, "KROTON_SUCCESS_RATE_THRESHOLD", 0.9),
        follow_up_share=_number(environ, "KROTON_FOLLOW_UP_SHARE", 0.3),
        payload_extras=_switch(environ, "KROTON_PAYLOAD_EXTRAS", api_format.dialect == "v5"),
        accept_terms=_switch(environ, "KROTON_PAYLOAD_ACCEPT_TERMS", defaults.accept_terms),
        accept_email=_switch(environ, "KROTON_PAYLOAD_ACCEPT_EMAIL", defaults.accept_email),
        accept_sms=_switch(environ, "KROTON_PAYLOAD_ACCEPT_SMS", defaults.accept_sms),
        accept_whatsapp=_switch(
            environ, "KROTON_PAYLOAD_ACCEPT_WHATSAPP", defaults.accept_whatsapp
        ),
        use_enem=_switch(environ, "KROTON_PAYLOAD_USE_ENEM", defaults.use_enem),
        neighbourhood_placeholder=_get(environ, "KROTON_PAYLOAD_NEIGHBOURHOOD")
        or defaults.neighbourhood_placeholder,
        completion_year=int(year) if year else 0,
        precheck_stale_days=int(
            _number(environ, "KROTON_PRECHECK_STALE_DAYS", defaults.precheck_stale_days, int)
        ),
        tracking_grace_days=int(
            _number(environ, "KROTON_TRACKING_GRACE_DAYS", defaults.tracking_grace_days, int)
        ),
        tracking_horizon_days=int(
            _number(environ, "KROTON_TRACKING_HORIZON_DAYS", defaults.tracking_horizon_days, int)
        ),
        tracking_max_interval_days=int(
            _number(
                environ,
                "KROTON_TRACKING_MAX_INTERVAL_DAYS",
                defaults.tracking_max_interval_days,
                int,
            )
        ),
        gender_unknown_policy=policy,
        gender_unknown_send_as=send_as,
    )


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
    no_catalog_key = (_get(environ, "CATALOG_KROTON_AUTH_SCHEME") or "").lower() == "none"
    return [
        name
        for name in REQUIRED_SECRETS
        if _get(environ, name) is None and not (no_catalog_key and name == "CATALOG_KROTON_API_KEY")
    ]


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

    api_format = load_api_format(environ)
    claim_ttl = _number(environ, "KROTON_CLAIM_TTL_SECONDS", DEFAULT_CLAIM_TTL_SECONDS)
    if claim_ttl <= api_format.register_timeout_seconds:
        raise SettingsError(
            "KROTON_CLAIM_TTL_SECONDS must be longer than KROTON_TIMEOUT_REGISTER_SECONDS: "
            "a lead's claim must outlast its registration POST"
        )
    scheme = _get(environ, "CATALOG_KROTON_AUTH_SCHEME") or (
        "Bearer" if env == "staging" else "apiKey"
    )
    if scheme not in ("apiKey", "Bearer", "none"):
        raise SettingsError("CATALOG_KROTON_AUTH_SCHEME must be apiKey, Bearer or none")

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
        catalog_api_key=(
            _get(environ, "CATALOG_KROTON_API_KEY") or ""
            if scheme.lower() == "none"
            else value("CATALOG_KROTON_API_KEY")
        ),
        catalog_auth_scheme=scheme,  # type: ignore[arg-type]
        lookups_via_captacao=(_get(environ, "KROTON_LOOKUPS_VIA_CAPTACAO") or "").lower()
        in ("1", "true", "yes"),
        slack_bot_token=_get(environ, "SLACK_BOT_TOKEN"),
        slack_webhook_url=_get(environ, "SLACK_WEBHOOK_URL"),
        slack_channel=_get(environ, "SLACK_CHANNEL"),
        slack_api_url=_get(environ, "SLACK_API_URL") or DEFAULT_SLACK_API_URL,
        webserver_url=webserver_url(environ),
        git_url=_get(environ, "KROTON_GIT_URL"),
        git_branch=_get(environ, "KROTON_GIT_BRANCH") or "main",
        kroton_budget=RateQuota(
            requests=int(_number(environ, "KROTON_RATE_LIMIT", 100, int)),
            window_seconds=_number(environ, "KROTON_RATE_WINDOW_SECONDS", 300.0),
        ),
        catalog_budget=RateQuota(
            requests=int(_number(environ, "CATALOG_RATE_LIMIT", 100, int)),
            window_seconds=_number(environ, "CATALOG_RATE_WINDOW_SECONDS", 300.0),
        ),
        rules=load_rules(environ, api_format),
        api_format=api_format,
        erasure_keys=tuple(key.decode() for key in erasure_keys(environ)),
        claim_ttl_seconds=claim_ttl,
        migrate_on_run=_switch(environ, "KROTON_MIGRATE_ON_RUN", True),
        stuck=load_stuck_thresholds(environ),
        landing_sensor_interval_seconds=int(
            _number(environ, "KROTON_LANDING_SENSOR_INTERVAL_SECONDS", 60, int)
        ),
    )
