"""The production shape on one machine: the processes of ``deploy/`` against PostgreSQL.

Each process gets what its container gets in ``deploy/docker-compose.yaml`` and nothing of
the test's environment: the webserver and the daemon only ``DAGSTER_HOME`` (holding
``deploy/dagster.yaml`` and a workspace naming the code server) and ``DAGSTER_PG_*``; the
code server also the pipeline's variables. Every host has a ``DAGSTER_HOME`` of its own,
as separate machines would. The sandbox Kroton runs as its own process; the test reads its
journal over HTTP like any client.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy.engine import make_url

from kroton_pipeline.sandbox.export_generator import generate_export, write_export
from kroton_pipeline.settings import today_in_sao_paulo
from kroton_pipeline_tests.deploy.graphql import LOCATION, DagsterGraphQL
from kroton_pipeline_tests.deploy.hosts import Host, LoopbackHosts, NamespaceHosts
from kroton_pipeline_tests.deploy.services import Service, base_environment, wait_until

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
MODULE = "kroton_pipeline.definitions"
CODE_SERVER_PORT, WEBSERVER_PORT, SANDBOX_PORT = 4000, 3000, 8765
# The sandbox and the pipeline's budget agree, and never make the tests wait on it.
RATE = {"limit": "1000", "window": "1"}
KROTON_POOLS = ("kroton_api", "catalog_api")


def past_import_dates(count: int) -> list[date]:
    """``count`` import dates, oldest first, ending yesterday (São Paulo)."""
    today = today_in_sao_paulo()
    return [today - timedelta(days=offset) for offset in range(count, 0, -1)]


class DeployStepFailed(RuntimeError):
    """A one-off deploy command (migrations, pool limits) failed; carries its output."""


class SandboxProcess:
    """``python -m kroton_pipeline.sandbox`` on its own host, driven over its control API."""

    def __init__(self, service: Service, port: int) -> None:
        self.service, self.port = service, port
        self.base_url = f"http://{service.host.address}:{port}"
        self.http = httpx.Client(base_url=self.base_url, timeout=10)

    def ready(self) -> None:
        self.service.wait_for_port(self.port, timeout=60)

    def journal(self) -> list[dict[str, Any]]:
        """``GET /_sandbox/requests``: every request received, oldest first."""
        return self.http.get("/_sandbox/requests").raise_for_status().json()

    def registrations(self) -> list[dict[str, Any]]:
        """Every registration POST in the journal."""
        return [e for e in self.journal() if e["endpoint"] == "register" and e["method"] == "POST"]

    def inscriptions(self) -> list[dict[str, Any]]:
        return self.http.get("/_sandbox/inscriptions").raise_for_status().json()

    def set_faults(self, endpoint: str, **settings: Any) -> None:
        self.http.post(
            "/_sandbox/faults", json={"endpoint": endpoint, **settings}
        ).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete("/_sandbox/faults").raise_for_status()


@dataclass
class Deployment:
    """One code server, one webserver and one daemon: what a deploy of ``deploy/`` starts."""

    code_server: Service
    webserver: Service
    daemon: Service
    api: DagsterGraphQL

    @property
    def services(self) -> list[Service]:
        return [self.code_server, self.webserver, self.daemon]


@dataclass
class Stack:
    """Hosts, the two databases, the landing folder, and the processes started on them."""

    hosts: LoopbackHosts | NamespaceHosts
    root: Path
    dagster_db_url: str  # the fixture's URL (the test reaches PostgreSQL directly)
    pipeline_db_url: str
    services: list[Service] = field(default_factory=list)
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def land_export(self, day: date, size: int = 16) -> None:
        """Write the Databricks export of ``day`` to the landing folder, with its ``.done``
        marker (so the sensor need not wait a second tick to see it is complete)."""
        path = write_export(generate_export(day, size, seed=day.toordinal()), self.landing, day)
        path.with_name(f"{path.name}.done").touch()

    # -- environments ---------------------------------------------------------------------------
    def _over_network(self, url: str) -> str:
        """``url`` with the address the deployment's hosts reach PostgreSQL at."""
        host, port = self.hosts.postgres
        return make_url(url).set(host=host, port=port).render_as_string(hide_password=False)

    def dagster_pg_env(self) -> dict[str, str]:
        """``DAGSTER_PG_*``: what ``deploy/dagster.yaml`` reads (every Dagster process)."""
        url = make_url(self._over_network(self.dagster_db_url))
        return {
            "DAGSTER_PG_HOST": url.host or "",
            "DAGSTER_PG_PORT": str(url.port or 5432),
            "DAGSTER_PG_USERNAME": url.username or "",
            "DAGSTER_PG_PASSWORD": url.password or "",
            "DAGSTER_PG_DB": url.database or "",
        }

    def pipeline_env(self, sandbox: SandboxProcess) -> dict[str, str]:
        """The pipeline's variables: only the code server (and its run workers) get them."""
        return {
            "KROTON_ENV": "sandbox",
            "KROTON_DATABASE_URL": self._over_network(self.pipeline_db_url),
            "KROTON_LANDING_URL": str(self.landing),
            "API_KROTON_BASE_URL": f"{sandbox.base_url}/kroton",
            "API_KROTON_BASE_URL_CAPTACAO": f"{sandbox.base_url}/captacao",
            "CATALOG_KROTON_BASE_URL": f"{sandbox.base_url}/catalog",
            "KROTON_RATE_LIMIT": RATE["limit"],
            "KROTON_RATE_WINDOW_SECONDS": RATE["window"],
            "CATALOG_RATE_LIMIT": RATE["limit"],
            "CATALOG_RATE_WINDOW_SECONDS": RATE["window"],
        }

    def dagster_home(self, host: str, workspace: tuple[str, int] | None = None) -> Path:
        """A host's DAGSTER_HOME: ``deploy/dagster.yaml`` as shipped (and a workspace)."""
        home = self.root / "hosts" / host / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEPLOY / "dagster.yaml", home / "dagster.yaml")
        if workspace is not None:
            server = {"host": workspace[0], "port": workspace[1], "location_name": LOCATION}
            text = yaml.safe_dump({"load_from": [{"grpc_server": server}]})
            (home / "workspace.yaml").write_text(text)
        return home

    # -- processes ------------------------------------------------------------------------------
    def _service(self, name: str, host: Host, argv: list[str], env: dict[str, str]) -> Service:
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        service = Service(name, host, argv, base_environment(env), logs / f"{name}.log", self.root)
        self.services.append(service)
        return service.start()

    def start_sandbox(self) -> SandboxProcess:
        """Start the sandbox Kroton on a host of its own (``ready()`` waits for it)."""
        host = self.hosts.add("sandbox")
        port = host.port(SANDBOX_PORT)
        argv = [sys.executable, "-m", "kroton_pipeline.sandbox", "--host", host.bind]
        argv += ["--port", str(port), "--timeout-seconds", "1"]
        argv += ["--rate-limit", RATE["limit"], "--rate-window", RATE["window"]]
        sandbox = SandboxProcess(self._service("sandbox", host, argv, {}), port)
        self.clients.append(sandbox.http)
        return sandbox

    def run_deploy_steps(self, host: Host, env: dict[str, str]) -> None:
        """The one-off steps of a deploy, on ``host`` (an init container): the pipeline's
        migrations, and the Kroton pools' limits (which also create Dagster's schema)."""
        dagster = str(BIN / "dagster")
        pools = " && ".join(f"{dagster} instance concurrency set {pool} 1" for pool in KROTON_POOLS)
        steps = [[sys.executable, "-m", "kroton_pipeline.db", "upgrade"], ["sh", "-c", pools]]
        running = [
            (
                step,
                subprocess.Popen(
                    [*host.command_prefix, *step],
                    env=base_environment(env),
                    cwd=self.root,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
            for step in steps
        ]
        for step, process in running:
            output, _ = process.communicate(timeout=180)
            if process.returncode != 0:
                raise DeployStepFailed(f"{' '.join(step)}:\n{output}")

    def start_code_server(self, sandbox: SandboxProcess, name: str = "") -> Service:
        """Deploy steps, then ``dagster api grpc -m kroton_pipeline.definitions``."""
        host = self.hosts.add(f"code{name}")
        port = host.port(CODE_SERVER_PORT)
        env = {
            **self.dagster_pg_env(),
            **self.pipeline_env(sandbox),
            "DAGSTER_HOME": str(self.dagster_home(host.name)),
        }
        self.run_deploy_steps(host, env)
        argv = [str(BIN / "dagster"), "api", "grpc", "-m", MODULE, "-h", host.bind]
        server = self._service(f"code-server{name}", host, [*argv, "-p", str(port)], env)
        # Its port opens once the definitions have loaded: what a readiness probe waits for.
        server.wait_for_port(port)
        server.address = (host.address, port)
        return server

    def start_webserver(
        self, code_server: Service, name: str = ""
    ) -> tuple[Service, DagsterGraphQL]:
        """``dagster-webserver`` with a workspace naming the code server; its API client."""
        host = self.hosts.add(f"web{name}")
        port = host.port(WEBSERVER_PORT)
        home = self.dagster_home(host.name, code_server.address)
        argv = [str(BIN / "dagster-webserver"), "-w", str(home / "workspace.yaml")]
        argv += ["-h", host.bind, "-p", str(port)]
        env = {**self.dagster_pg_env(), "DAGSTER_HOME": str(home)}
        webserver = self._service(f"webserver{name}", host, argv, env)
        webserver.wait_for_port(port)
        api = DagsterGraphQL(f"http://{host.address}:{port}")
        self.clients.append(api.http)
        wait_until(api.location_loaded, 90, "the webserver to load the code location")
        return webserver, api

    def start_daemon(self, code_server: Service, name: str = "") -> Service:
        """``dagster-daemon run`` with a workspace naming the code server."""
        host = self.hosts.add(f"daemon{name}")
        home = self.dagster_home(host.name, code_server.address)
        argv = [str(BIN / "dagster-daemon"), "run", "-w", str(home / "workspace.yaml")]
        env = {**self.dagster_pg_env(), "DAGSTER_HOME": str(home)}
        return self._service(f"daemon{name}", host, argv, env)

    def start_deployment(self, sandbox: SandboxProcess) -> Deployment:
        """What a deploy of ``deploy/`` starts: code server, then daemon and webserver."""
        sandbox.ready()
        code_server = self.start_code_server(sandbox)
        daemon = self.start_daemon(code_server)
        webserver, api = self.start_webserver(code_server)
        return Deployment(code_server, webserver, daemon, api)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for service in reversed(self.services):
            service.stop()
        self.hosts.close()
