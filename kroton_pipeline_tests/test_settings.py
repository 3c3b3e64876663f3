"""Settings from the environment: sandbox by default, real environments refuse to
start without their credentials and name each missing one."""

from __future__ import annotations

import pytest

from kroton_pipeline.domain.erasure_digest import cpf_digest, erased_among
from kroton_pipeline.settings import (
    REQUIRED_SECRETS,
    SANDBOX_ERASURE_KEY,
    SettingsError,
    erasure_keys,
    first_import_date,
    load_settings,
)

STAGING_SECRETS = {name: f"value-of-{name.lower()}" for name in REQUIRED_SECRETS}


def test_empty_environment_is_the_sandbox_with_an_sqlite_file() -> None:
    settings = load_settings({})
    assert settings.env == "sandbox"
    assert settings.database_url == "sqlite:///kroton_pipeline.db"
    assert settings.kroton_base_url == "http://127.0.0.1:8765/kroton"
    assert settings.captacao_base_url == "http://127.0.0.1:8765/captacao"
    assert settings.catalog_base_url == "http://127.0.0.1:8765/catalog"
    assert settings.kroton_client_id == "sandbox-client"
    assert settings.catalog_api_key == "sandbox-api-key"
    assert settings.catalog_auth_scheme == "apiKey"
    assert not settings.slack_enabled
    assert (settings.kroton_budget.requests, settings.kroton_budget.window_seconds) == (100, 300)


def test_sandbox_urls_follow_the_port_and_can_be_overridden() -> None:
    settings = load_settings(
        {"KROTON_SANDBOX_PORT": "9001", "CATALOG_KROTON_BASE_URL": "http://catalog.test/"}
    )
    assert settings.kroton_base_url == "http://127.0.0.1:9001/kroton"
    assert settings.catalog_base_url == "http://catalog.test"


@pytest.mark.parametrize("env", ["staging", "production"])
def test_real_environment_without_credentials_names_each_missing_one(env: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"KROTON_ENV": env, "API_KROTON_CLIENT_ID": "given"})
    message = str(refused.value)
    assert "API_KROTON_CLIENT_ID" not in message
    for name in REQUIRED_SECRETS[1:]:
        assert name in message


def test_staging_uses_kroton_urls_bearer_catalog_auth_and_never_prints_secrets() -> None:
    settings = load_settings({"KROTON_ENV": "staging", **STAGING_SECRETS})
    assert settings.kroton_base_url == "https://ingresso-api-stg-portal.krthomolog.com.br"
    assert settings.catalog_base_url == "https://captacao-aks-stg.krthomolog.com.br"
    assert settings.catalog_auth_scheme == "Bearer"
    shown = repr(settings)
    for name in ("API_KROTON_SECRET", "API_KROTON_PASSWORD", "CATALOG_KROTON_API_KEY"):
        assert STAGING_SECRETS[name] not in shown


def test_production_uses_kroton_production_urls() -> None:
    settings = load_settings({"KROTON_ENV": "production", **STAGING_SECRETS})
    assert settings.kroton_base_url == "https://ingresso-api-portal.kroton.com.br"
    assert settings.catalog_auth_scheme == "apiKey"


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"KROTON_ENV": "prod"}, "KROTON_ENV"),
        ({"KROTON_RATE_LIMIT": "many"}, "KROTON_RATE_LIMIT"),
        ({"KROTON_RATE_WINDOW_SECONDS": "0"}, "KROTON_RATE_WINDOW_SECONDS"),
        ({"KROTON_FOLLOW_UP_SHARE": "1.5"}, "KROTON_FOLLOW_UP_SHARE"),
        ({"CATALOG_KROTON_AUTH_SCHEME": "Basic"}, "CATALOG_KROTON_AUTH_SCHEME"),
    ],
)
def test_invalid_setting_is_refused_naming_the_variable(variables: dict, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(variables)


def test_slack_is_on_only_with_token_and_channel() -> None:
    assert not load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}).slack_enabled
    assert load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CHANNEL": "#leads"}).slack_enabled


def test_the_erasure_key_is_required_in_real_environments_and_can_be_rotated() -> None:
    without = {k: v for k, v in STAGING_SECRETS.items() if k != "KROTON_ERASURE_KEY"}
    with pytest.raises(SettingsError, match="KROTON_ERASURE_KEY"):
        load_settings({"KROTON_ENV": "production", **without})
    rotated = {"KROTON_ERASURE_KEY": "new", "KROTON_ERASURE_OLD_KEYS": "older, oldest"}
    assert erasure_keys(rotated) == (b"new", b"older", b"oldest")
    assert erasure_keys({}) == (SANDBOX_ERASURE_KEY.encode(),)


def test_a_digest_made_with_an_earlier_key_still_matches_after_rotation() -> None:
    before = cpf_digest("52998224725", b"first-key")
    keys = erasure_keys(
        {"KROTON_ERASURE_KEY": "second-key", "KROTON_ERASURE_OLD_KEYS": "first-key"}
    )
    assert erased_among(["52998224725", "11144477735"], {before}, keys) == {"52998224725"}


def test_repr_hides_every_secret_and_the_passwords_in_urls() -> None:
    settings = load_settings(
        {
            "KROTON_ENV": "production",
            **STAGING_SECRETS,
            "KROTON_DATABASE_URL": "postgresql://kroton:db-pass@db.internal/kroton",
            "KROTON_LANDING_URL": "sftp://databricks:landing-pass@files.internal/leads",
        }
    )
    shown = repr(settings)
    assert "db-pass" not in shown and "landing-pass" not in shown
    assert "kroton:***@db.internal" in shown
    assert all(value not in shown for value in STAGING_SECRETS.values())
    assert settings.landing_url_has_secret


def test_a_claim_must_outlast_the_registration_post() -> None:
    with pytest.raises(SettingsError, match="KROTON_CLAIM_TTL_SECONDS"):
        load_settings({"KROTON_CLAIM_TTL_SECONDS": "60"})
    assert load_settings({"KROTON_CLAIM_TTL_SECONDS": "900"}).claim_ttl_seconds == 900


def test_partitions_start_at_the_configured_first_import_date() -> None:
    assert first_import_date({}) == "2026-01-01"
    assert first_import_date({"KROTON_FIRST_IMPORT_DATE": " 2026-11-02 "}) == "2026-11-02"
    with pytest.raises(SettingsError, match="KROTON_FIRST_IMPORT_DATE"):
        first_import_date({"KROTON_FIRST_IMPORT_DATE": "02/11/2026"})


def test_a_catalog_without_auth_needs_no_api_key_even_in_production() -> None:
    without = {k: v for k, v in STAGING_SECRETS.items() if k != "CATALOG_KROTON_API_KEY"}
    with pytest.raises(SettingsError, match="CATALOG_KROTON_API_KEY"):
        load_settings({"KROTON_ENV": "production", **without})
    settings = load_settings(
        {"KROTON_ENV": "production", **without, "CATALOG_KROTON_AUTH_SCHEME": "none"}
    )
    assert settings.catalog_auth_scheme == "none" and settings.catalog_api_key == ""


def test_slack_is_on_with_an_incoming_webhook_as_in_the_design_document() -> None:
    settings = load_settings({"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X"})
    assert settings.slack_enabled
    assert "hooks.slack.com" not in repr(settings)


def test_slack_api_run_links_and_code_links_are_read_with_the_other_settings() -> None:
    defaults = load_settings({})
    assert defaults.slack_api_url == "https://slack.com/api/"
    assert defaults.webserver_url == "http://localhost:3000"
    assert (defaults.git_url, defaults.git_branch) == (None, "main")
    settings = load_settings(
        {
            "SLACK_API_URL": "http://127.0.0.1:9/api/",
            "DAGSTER_WEBSERVER_URL": "https://dagster.example.org/",
            "KROTON_GIT_URL": "https://git.example.org/kroton-pipeline",
            "KROTON_GIT_BRANCH": "release",
        }
    )
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.webserver_url == "https://dagster.example.org"
    assert (settings.git_url, settings.git_branch) == (
        "https://git.example.org/kroton-pipeline",
        "release",
    )
