"""Health checks: one line per check, exit code 1 on any failure, no secrets printed."""

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from kroton_pipeline import health
from kroton_pipeline.data.names import load_names
from kroton_pipeline.db.engine import make_engine, upgrade
from kroton_pipeline.sandbox import SandboxServer

SECRETS = ("sandbox-secret", "sandbox-password", "sandbox-api-key", "sandbox-subscription")


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    return {"rate_limit": 1000, "rate_window": 1}


@pytest.fixture(scope="module")
def names_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("health") / "template.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    load_names(engine)
    engine.dispose()
    return path


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, names_db: Path, tmp_path: Path
) -> dict[str, str]:
    shutil.copyfile(names_db, tmp_path / "kroton.db")
    env = {
        "KROTON_ENV": "sandbox",
        "KROTON_SANDBOX_PORT": str(sandbox.port),
        "KROTON_DATABASE_URL": f"sqlite:///{tmp_path / 'kroton.db'}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    return env


def _run(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = health.main([])
    return code, capsys.readouterr().out.strip().splitlines()


def test_every_check_passes_on_the_sandbox(environment, capsys) -> None:
    code, lines = _run(capsys)
    assert code == 0
    assert [line.split()[1] for line in lines[:-1]] == list(health.HEALTH_CHECK_NAMES)
    assert all(line.startswith("ok") for line in lines[:-1])
    assert lines[-1] == "6/6 checks passed"


def test_a_wrong_kroton_secret_fails_that_check_without_printing_it(
    environment, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("API_KROTON_SECRET", "wrong-secret-value")
    code, lines = _run(capsys)
    assert code == 1
    failed = [line for line in lines if line.startswith("FAIL")]
    assert [line.split()[1] for line in failed] == ["kroton_token"]
    assert "kroton_token" in lines[-1]
    output = "\n".join(lines)
    assert "wrong-secret-value" not in output
    assert not any(secret in output for secret in SECRETS)


def test_an_empty_names_table_and_missing_credentials_fail(
    environment, capsys, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("KROTON_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    code, lines = _run(capsys)
    assert code == 1
    assert any(line.startswith("FAIL  names_table") for line in lines)
    monkeypatch.setenv("KROTON_ENV", "production")
    code, lines = _run(capsys)
    assert code == 1
    assert lines[0].startswith("FAIL  settings") and "API_KROTON_SECRET" in lines[0]


def test_the_command_exits_non_zero_when_the_sandbox_is_stopped(environment) -> None:
    with SandboxServer(port=0) as stopped:
        port = stopped.port
    env = {**environment, "KROTON_SANDBOX_PORT": str(port), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "kroton_pipeline.health"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 7  # one per check + the summary
    for name in ("kroton_token", "captacao_token", "catalog_search"):
        assert any(line.startswith(f"FAIL  {name}") for line in lines), name
    assert any(line.startswith("ok    database") for line in lines)


def _health_job(environment: dict[str, str]) -> dg.JobDefinition:
    from kroton_pipeline.definitions import defs

    return defs().resolve_job_def("health_check")


def test_the_health_check_job_records_each_check(environment) -> None:
    result = _health_job(environment).execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == dict.fromkeys(health.HEALTH_CHECK_NAMES, True)


def test_the_health_check_job_fails_on_a_bad_credential(environment, monkeypatch) -> None:
    monkeypatch.setenv("CATALOG_KROTON_API_KEY", "not-the-key")
    result = _health_job(environment).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert not result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["catalog_search"] is False
    assert checks["kroton_token"] is True
