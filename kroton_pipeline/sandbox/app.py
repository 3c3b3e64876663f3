"""The sandbox as a function from request to reply: routing, auth, rate limits and faults.

Independent of the HTTP plumbing (``server.py``) so every rule reads in one place. Each
request to the simulated systems goes through the same gate, in this order: subscription
key, credentials or bearer token, rate limit, injected faults, then the endpoint itself.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from kroton_pipeline.sandbox import endpoints
from kroton_pipeline.sandbox.catalog import BUNDLED_CATALOG, Catalog
from kroton_pipeline.sandbox.clock import SandboxClock
from kroton_pipeline.sandbox.control import handle_control
from kroton_pipeline.sandbox.faults import FaultInjector
from kroton_pipeline.sandbox.journal import Journal
from kroton_pipeline.sandbox.lifecycle import Timing
from kroton_pipeline.sandbox.messages import Credentials, Reply, Request
from kroton_pipeline.sandbox.rate_limit import SlidingWindowLimiter
from kroton_pipeline.sandbox.state import SandboxState

SYSTEMS = ("kroton", "captacao", "catalog")
SUBSCRIPTION_DENIED = {
    "statusCode": 401,
    "message": "Access denied due to missing or invalid subscription key.",
}
TOKEN_DENIED = {
    "statusCode": 401,
    "message": "Unauthorized. Access token is missing, invalid or expired.",
}
API_KEY_DENIED = {"statusCode": 401, "message": "Access denied due to missing or invalid API key."}
_LOOKUPS = (
    ("GET", r"/ms/inscricaocqrs/captacao/v5/inscricao/cpf/(?P<cpf>[^/]+)", "inscricoes_by_cpf"),
    (
        "GET",
        r"/ms/matricula/captacao/v1/ms/matricula/candidato/cpf/(?P<cpf>[^/]+)",
        "matriculas_by_cpf",
    ),
    (
        "GET",
        r"/ms/inscricao/v4/captacao/inscricao/(?P<inscricao>[^/]+)/sistema/(?P<sistema>[^/]+)",
        "inscricao_status",
    ),
)
ROUTES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "kroton": (
        ("POST", r"/oauth2/token", "token"),
        *_LOOKUPS,
        ("POST", r"/ms/inscricao/v4/captacao/inscricao", "register"),
    ),
    "captacao": (("POST", r"/auth/login", "captacao_login"), *_LOOKUPS),
    "catalog": (("POST", r"/elasticlayer/middleware/oferta/_search", "catalog_search"),),
}


class SandboxApp:
    """The simulated Kroton, Captação and catalog behind one ``handle(request)``."""

    def __init__(
        self,
        seed: int = 7,
        rate_limit: int = 100,
        rate_window: float = 300.0,
        token_ttl: float = 60.0,
        captacao_token_ttl: float = 86_400.0,
        timeout_seconds: float = 30.0,
        timing: Timing | None = None,
        credentials: Credentials | None = None,
        catalog_path: str | None = None,
    ) -> None:
        self.seed = seed
        self.token_ttl = float(token_ttl)
        self.captacao_token_ttl = float(captacao_token_ttl)
        self.timeout_seconds = float(timeout_seconds)
        self.credentials = credentials or Credentials()
        self.clock = SandboxClock()
        self.catalog = Catalog(BUNDLED_CATALOG if catalog_path is None else catalog_path)
        self.state = SandboxState(seed, self.catalog, self.clock, timing)
        self.journal = Journal()
        self.faults = FaultInjector(seed)
        self.limiter = SlidingWindowLimiter(rate_limit, rate_window)
        self.stopping = threading.Event()  # set on shutdown: cuts injected sleeps short

    def configure(self, **settings: Any) -> dict[str, float]:
        """Change rate_limit, rate_window, token_ttl, captacao_token_ttl, timeout_seconds."""
        allowed = {
            "rate_limit",
            "rate_window",
            "token_ttl",
            "captacao_token_ttl",
            "timeout_seconds",
        }
        unknown = set(settings) - allowed
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        self.limiter.configure(settings.get("rate_limit"), settings.get("rate_window"))
        for name in ("token_ttl", "captacao_token_ttl", "timeout_seconds"):
            if settings.get(name) is not None:
                setattr(self, name, float(settings[name]))
        return self.settings()

    def settings(self) -> dict[str, float]:
        """Current tunable settings."""
        return {
            "rate_limit": self.limiter.limit,
            "rate_window": self.limiter.window,
            "token_ttl": self.token_ttl,
            "captacao_token_ttl": self.captacao_token_ttl,
            "timeout_seconds": self.timeout_seconds,
        }

    # -- request handling ------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        """Answer one request (may block for injected latency or timeouts)."""
        if request.path == "/_sandbox" or request.path.startswith("/_sandbox/"):
            return handle_control(self, request)
        system, _, rest = request.path.lstrip("/").partition("/")
        if system not in SYSTEMS:
            return Reply(404, {"statusCode": 404, "message": "Resource not found"})
        endpoint, status = self._route(system, request, "/" + rest)
        entry = self.journal.open(request.method, request.path, system, endpoint, self.clock.now())
        client: str | None = None
        if endpoint is None:
            reply = Reply(
                status,
                {
                    "statusCode": status,
                    "message": "Resource not found" if status == 404 else "Method not allowed",
                },
            )
        else:
            reply, client = self._gate_and_run(system, endpoint, request)
        self.journal.close(entry, None if reply.drop else reply.status, client)
        return reply

    def _route(self, system: str, request: Request, path: str) -> tuple[str | None, int]:
        wrong_method = False
        for method, pattern, endpoint in ROUTES[system]:
            found = re.fullmatch(pattern, path)
            if found and method == request.method:
                request.params = {k: unquote(v) for k, v in found.groupdict().items()}
                return endpoint, 200
            wrong_method = wrong_method or bool(found)
        return None, 405 if wrong_method else 404

    def _gate_and_run(
        self, system: str, endpoint: str, request: Request
    ) -> tuple[Reply, str | None]:
        client, denied = self._authenticate(system, endpoint, request)
        if denied is not None:
            return denied, None
        assert client is not None
        wait = self.limiter.admit(f"{system}:{client}", self.clock.now())
        if wait:
            body = {
                "statusCode": 429,
                "message": f"Rate limit is exceeded. Try again in {wait} seconds.",
            }
            return Reply(429, body, {"Retry-After": str(wait)}), client
        plan = self.faults.plan(endpoint)
        if plan.latency:
            self.stopping.wait(plan.latency)
        if plan.action == "timeout":
            self.stopping.wait(self.timeout_seconds)
            return Reply(0, drop=True), client
        if plan.action in ("burst", "error"):
            return _server_error(plan.status), client
        reply = HANDLERS[endpoint](self, request, client)
        if plan.action == "malformed":
            text = reply.payload()
            return Reply(200, raw=text[: max(1, len(text) // 2)]), client
        if plan.action == "error_after_store":
            return _server_error(500), client
        return reply, client

    def _authenticate(
        self, system: str, endpoint: str, request: Request
    ) -> tuple[str | None, Reply | None]:
        """(client, None) when allowed, else (None, the 401/400 reply)."""
        creds, now = self.credentials, self.clock.now()
        if system in ("kroton", "captacao"):
            key = request.headers.get("ocp-apim-subscription-key")
            if key != creds.subscription_key:
                return None, Reply(401, SUBSCRIPTION_DENIED)
        if endpoint == "token":
            return endpoints.check_client_credentials(creds, request.form())
        if endpoint == "captacao_login":
            body = request.json()
            body = body if isinstance(body, dict) else {}
            if (body.get("email"), body.get("password")) != (
                creds.captacao_email,
                creds.captacao_password,
            ):
                return None, Reply(401, {"message": "Invalid credentials"})
            return creds.captacao_email, None
        if system == "catalog":
            key = request.bearer("apikey") or request.bearer("bearer")
            if key != creds.catalog_api_key:
                return None, Reply(401, API_KEY_DENIED)
            return key, None
        owner = self.state.tokens.owner(system, request.bearer(), now)
        if owner is None:
            return None, Reply(401, TOKEN_DENIED)
        return owner, None


def _server_error(status: int) -> Reply:
    messages = {500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable"}
    return Reply(status, {"statusCode": status, "message": messages[status]})


HANDLERS: dict[str, Callable[[SandboxApp, Request, str], Reply]] = {
    "token": lambda app, req, client: endpoints.issue_token(app, client),
    "captacao_login": lambda app, req, client: endpoints.captacao_login(app, client),
    "inscricoes_by_cpf": lambda app, req, client: endpoints.inscricoes(app, req.params["cpf"]),
    "matriculas_by_cpf": lambda app, req, client: endpoints.matriculas(app, req.params["cpf"]),
    "inscricao_status": lambda app, req, client: endpoints.inscricao_status(
        app, req.params["inscricao"], req.params["sistema"]
    ),
    "register": lambda app, req, client: Reply(*app.state.register(req.json())),
    "catalog_search": lambda app, req, client: endpoints.catalog_search(app, req.json()),
}
