"""The deployment files agree: deploy/dagster.yaml, the Dockerfile, docker-compose.yaml, the
Helm values and the Secret example name the same variables, module, port and settings.

Images cannot be built here; what can drift between these files is checked instead.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kroton_pipeline.settings import REQUIRED_SECRETS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MODULE = PYPROJECT["tool"]["dg"]["project"]["code_location_target_module"]
LOCATION = PYPROJECT["tool"]["dg"]["project"]["code_location_name"]
PORT = 4000
DAGSTER_PROCESSES = ("deploy_steps", "user_code", "webserver", "daemon")
# What the code server needs beyond REQUIRED_SECRETS in production.
PIPELINE_BASICS = {"KROTON_ENV", "KROTON_DATABASE_URL", "KROTON_LANDING_URL", "KROTON_ERASURE_KEY"}


def load(name: str) -> Any:
    return yaml.safe_load((DEPLOY / name).read_text())


def env_names(node: Any) -> Iterator[str]:
    """Every ``{env: NAME}`` of a Dagster instance file."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            yield node["env"]
        for value in node.values():
            yield from env_names(value)


INSTANCE = load("dagster.yaml")
INSTANCE_VARS = set(env_names(INSTANCE))
COMPOSE = load("docker-compose.yaml")["services"]
HELM = load("helm/values.yaml")
(USER_DEPLOYMENT,) = HELM["dagster-user-deployments"]["deployments"]
SECRETS = {
    doc["metadata"]["name"]: doc
    for doc in yaml.safe_load_all((DEPLOY / "helm" / "secrets.example.yaml").read_text())
}
PIPELINE_VARS = set(COMPOSE["user_code"]["environment"]) - INSTANCE_VARS


def test_the_instance_reads_its_connection_from_dagster_pg_variables() -> None:
    assert {
        f"DAGSTER_PG_{part}" for part in ("HOST", "PORT", "USERNAME", "PASSWORD", "DB")
    } == INSTANCE_VARS


@pytest.mark.parametrize("service", DAGSTER_PROCESSES)
def test_every_dagster_process_in_compose_gets_the_instance_variables(service: str) -> None:
    assert set(COMPOSE[service]["environment"]) >= INSTANCE_VARS


@pytest.mark.parametrize("service", ["webserver", "daemon"])
def test_webserver_and_daemon_get_no_pipeline_setting_or_secret(service: str) -> None:
    assert set(COMPOSE[service]["environment"]) == INSTANCE_VARS


def test_the_pipeline_variables_are_the_ones_the_code_reads() -> None:
    assert PIPELINE_BASICS | set(REQUIRED_SECRETS) <= PIPELINE_VARS
    assert COMPOSE["deploy_steps"]["environment"] == COMPOSE["user_code"]["environment"]
    source = "\n".join(p.read_text() for p in (ROOT / "kroton_pipeline").rglob("*.py"))
    assert {name for name in PIPELINE_VARS if f'"{name}"' not in source} == set()


def test_helm_gives_the_user_code_the_same_variables_as_compose() -> None:
    (secret_ref,) = USER_DEPLOYMENT["envSecrets"]
    secret = SECRETS[secret_ref["name"]]
    plain = {item["name"] for item in USER_DEPLOYMENT["env"]}
    assert plain | set(secret["stringData"]) == PIPELINE_VARS
    assert not plain & set(REQUIRED_SECRETS)  # secrets never as plain values
    assert USER_DEPLOYMENT["includeConfigInLaunchedRuns"] == {"enabled": True}
    (migrate,) = USER_DEPLOYMENT["initContainers"]
    assert migrate["command"] == ["python", "-m", "kroton_pipeline.db", "upgrade"]
    assert migrate["env"] == USER_DEPLOYMENT["env"]
    assert migrate["envFrom"] == [{"secretRef": secret_ref}]
    # The chart sets DAGSTER_PG_PASSWORD from this Secret's postgresql-password.
    assert "postgresql-password" in SECRETS[HELM["global"]["postgresqlSecretName"]]["stringData"]


def test_every_file_serves_the_same_module_on_the_same_port() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert f'"-m", "{MODULE}", "-h", "0.0.0.0", "-p", "{PORT}"' in dockerfile
    assert f"EXPOSE {PORT}" in dockerfile
    assert USER_DEPLOYMENT["dagsterApiGrpcArgs"] == ["-m", MODULE]
    assert USER_DEPLOYMENT["port"] == PORT
    (entry,) = load("workspace.yaml")["load_from"]
    assert entry["grpc_server"] == {"host": "user_code", "port": PORT, "location_name": LOCATION}
    assert "command" not in COMPOSE["user_code"]  # the image's gRPC server
    assert str(PORT) in COMPOSE["user_code"]["healthcheck"]["test"]


def test_the_images_pin_the_dagster_set_of_pyproject() -> None:
    pins = dict(
        re.findall(r"^([a-z-]+)==([\d.]+)$", "\n".join(PYPROJECT["project"]["dependencies"]), re.M)
    )
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for package in ("dagster", "dagster-webserver", "dagster-postgres"):
        assert f"{package}=={pins[package]}" in dockerfile


def test_the_helm_values_mirror_the_instance_settings() -> None:
    concurrency = INSTANCE["concurrency"]
    assert HELM["concurrency"] == {
        "enabled": True,
        "runs": {
            "maxConcurrentRuns": concurrency["runs"]["max_concurrent_runs"],
            "tagConcurrencyLimits": concurrency["runs"]["tag_concurrency_limits"],
        },
        "pools": {
            "granularity": concurrency["pools"]["granularity"],
            "defaultLimit": concurrency["pools"]["default_limit"],
        },
    }
    daemon = HELM["dagsterDaemon"]
    assert daemon["runRetries"] == {
        "enabled": True,
        "maxRetries": INSTANCE["run_retries"]["max_retries"],
    }
    monitoring = INSTANCE["run_monitoring"]
    assert daemon["runMonitoring"]["startTimeoutSeconds"] == monitoring["start_timeout_seconds"]
    assert daemon["runMonitoring"]["maxResumeRunAttempts"] == monitoring["max_resume_run_attempts"]
    assert "maxConcurrentRuns" not in daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert (
        HELM["retention"]["schedule"]["purgeAfterDays"]
        == INSTANCE["retention"]["schedule"]["purge_after_days"]
    )
    assert (
        HELM["retention"]["sensor"]["purgeAfterDays"]
        == INSTANCE["retention"]["sensor"]["purge_after_days"]
    )
    assert HELM["pythonLogs"] == {
        "pythonLogLevel": INSTANCE["python_logs"]["python_log_level"],
        "managedPythonLoggers": INSTANCE["python_logs"]["managed_python_loggers"],
    }
    assert HELM["telemetry"] == INSTANCE["telemetry"]
    assert (
        HELM["postgresql"]["postgresqlScheme"]
        == INSTANCE["storage"]["postgres"]["postgres_db"]["scheme"]
    )
