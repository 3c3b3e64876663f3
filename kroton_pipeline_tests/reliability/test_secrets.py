"""Secrets never show: not in run configuration, logs, metadata or errors.

In staging and production every credential reaches the resources as an ``EnvVar``, so
Dagster stores the variable's *name* in the run configuration, never its value. The second
test proves it end to end: KROTON_ENV=staging with the base URLs pointed at a sandbox that
only accepts made-up credentials, the whole chain run through Dagster, and everything Dagster
and Python logging kept searched for the credential values and the tokens the sandbox issued.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from kroton_pipeline.defs.common.resources import resources_for_environment
from kroton_pipeline.sandbox import Credentials, SandboxServer
from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.settings import REQUIRED_SECRETS, load_settings, today_in_sao_paulo
from kroton_pipeline_tests.reliability.conftest import free_port
from kroton_pipeline_tests.reliability.dagster_chain import capture_all_logging, run_whole_chain

SECRETS = {
    "API_KROTON_CLIENT_ID": "stg-client-7f3a9c",
    "API_KROTON_SECRET": "stg-secret-Qx81mZ2vLw",
    "API_KROTON_SUBSCRIPTION": "stg-subkey-5d0e44b1",
    "API_KROTON_EMAIL": "stg-captacao-bot@quero.example",
    "API_KROTON_PASSWORD": "stg-password-Hq7s0",
    "CATALOG_KROTON_API_KEY": "stg-apikey-91be7722",
    "KROTON_ERASURE_KEY": "stg-erasure-3c9d",
}
SECRET_FIELDS = {
    "kroton": ("client_id", "client_secret", "subscription_key"),
    "captacao": ("email", "password", "subscription_key"),
    "catalog": ("api_key",),
}


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_real_environments_read_every_secret_through_envvar(environment: str) -> None:
    settings = load_settings({"KROTON_ENV": environment, **SECRETS})
    resources = resources_for_environment(settings)
    for name, fields in SECRET_FIELDS.items():
        for field_name in fields:
            value = getattr(resources[name], field_name)
            assert isinstance(value, dg.EnvVar), f"{name}.{field_name} is not an EnvVar"
            assert value.env_var_name in REQUIRED_SECRETS


def test_a_landing_url_with_credentials_reaches_dagster_through_envvar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "sftp://databricks:landing-pass@files.internal/leads"
    monkeypatch.setenv("KROTON_LANDING_URL", url)
    settings = load_settings({"KROTON_ENV": "production", **SECRETS, "KROTON_LANDING_URL": url})
    landing = resources_for_environment(settings)["landing"].url
    assert isinstance(landing, dg.EnvVar) and landing.env_var_name == "KROTON_LANDING_URL"


def test_sandbox_uses_the_documented_values_not_envvars() -> None:
    resources = resources_for_environment(load_settings({"KROTON_ENV": "sandbox"}))
    assert resources["kroton"].client_secret == "sandbox-secret"


@pytest.mark.integration
def test_no_secret_in_run_config_event_log_or_logs_of_a_staging_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = Credentials(
        client_id=SECRETS["API_KROTON_CLIENT_ID"],
        client_secret=SECRETS["API_KROTON_SECRET"],
        subscription_key=SECRETS["API_KROTON_SUBSCRIPTION"],
        captacao_email=SECRETS["API_KROTON_EMAIL"],
        captacao_password=SECRETS["API_KROTON_PASSWORD"],
        catalog_api_key=SECRETS["CATALOG_KROTON_API_KEY"],
    )
    server = SandboxServer(port=free_port(), seed=7, rate_limit=100_000, credentials=credentials)
    import_date = today_in_sao_paulo()
    with server:
        env = {
            "KROTON_ENV": "staging",
            "API_KROTON_BASE_URL": server.kroton_url,
            "API_KROTON_BASE_URL_CAPTACAO": server.captacao_url,
            "CATALOG_KROTON_BASE_URL": server.catalog_url,
            "KROTON_DATABASE_URL": f"sqlite:///{tmp_path / 'kroton.db'}",
            "KROTON_LANDING_URL": str(tmp_path / "landing"),
            "KROTON_RATE_WINDOW_SECONDS": "1",
            "CATALOG_RATE_WINDOW_SECONDS": "1",
            **SECRETS,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        for name in ("SLACK_BOT_TOKEN", "SLACK_CHANNEL"):
            monkeypatch.delenv(name, raising=False)
        write_export(generate_export(import_date, 20, seed=3), tmp_path / "landing", import_date)
        with capture_all_logging() as captured, dg.DagsterInstance.ephemeral() as instance:
            chain = run_whole_chain(server, import_date, instance)
            stored = chain.stored_text()
        tokens = list(server.state.tokens._tokens)  # whatever the sandbox issued and kept

    assert all(result.success for result in chain.runs), chain.errors()
    assert any(e["status"] == 200 and e["system"] == "kroton" for e in server.journal())
    run_config = "\n".join(
        str(instance_run.run_config) for instance_run in (r.dagster_run for r in chain.runs)
    )
    texts = {
        "python logging": "\n".join(captured.lines),
        "dagster run config, tags and event log": stored,
        "errors": "\n".join(chain.errors()),
    }
    assert tokens, "the sandbox issued no token: nothing was tested"
    for name, value in [*SECRETS.items(), *(("issued token", t) for t in tokens)]:
        for where, text in texts.items():
            assert value not in text, f"{name} found in {where}"
        assert value not in run_config


def test_real_environments_read_the_database_url_and_its_password_through_envvar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql://kroton:db-password-3f9@db.internal/kroton"
    monkeypatch.setenv("KROTON_DATABASE_URL", url)
    settings = load_settings({"KROTON_ENV": "production", "KROTON_DATABASE_URL": url, **SECRETS})
    resources = resources_for_environment(settings)
    for name in ("database",):
        assert resources[name].url == dg.EnvVar("KROTON_DATABASE_URL")
    for name in ("kroton", "captacao", "catalog"):
        assert resources[name].database_url == dg.EnvVar("KROTON_DATABASE_URL")
