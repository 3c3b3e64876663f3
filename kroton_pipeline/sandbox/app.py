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

from kroton_pipeline.sandbox import endpoints, wire
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


def routes(dialect: wire.Dialect) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """(method, path pattern, endpoint name) per simulated system, for one dialect."""
    lookups = wire.LOOKUP_ROUTES[dialect]
    return {
        "kroton": (
            ("POST", r"/oauth2/token", "token"),
            *lookups,
            wire.REGISTER_ROUTE[dialect],
        ),
        "captacao": (("POST", r"/auth/login", "captacao_login"), *lookups),
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
        dialect: wire.Dialect = "source",
    ) -> None:
        if dialect not in wire.DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(wire.DIALECTS)}")
        self.dialect: wire.Dialect = dialect
        self.routes = routes(dialect)
        # v5 only: answer an accepted registration with no body (production integrations
        # rely on the HTTP status alone).
        self.empty_register_answer = False
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

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change rate_limit, rate_window, token_ttl, captacao_token_ttl, timeout_seconds,
        empty_register_answer."""
        allowed = {
            "rate_limit",
            "rate_window",
            "token_ttl",
            "captacao_token_ttl",
            "timeout_seconds",
            "empty_register_answer",
        }
        unknown = set(settings) - allowed
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        self.limiter.configure(settings.get("rate_limit"), settings.get("rate_window"))
        for name in ("token_ttl", "captacao_token_ttl", "timeout_seconds"):
            if settings.get(name) is not None:
                setattr(self, name, float(settings[name]))
        if settings.get("empty_register_answer") is not None:
            self.empty_register_answer = bool(settings["empty_register_answer"])
        return self.settings()

    def settings(self) -> dict[str, Any]:
        """Current tunable settings."""
        return {
            "dialect": self.dialect,
            "empty_register_answer": self.empty_register_answer,
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
        for method, pattern, endpoint in self.routes[system]:
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
            # Token requests are served with or without the gateway's key (production
            # integrations send none there); a wrong key is refused everywhere.
            optional = endpoint in ("token", "captacao_login") and key is None
            if key != creds.subscription_key and not optional:
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
            if creds.catalog_api_key is None:  # a middleware that wants no auth
                return key or "anonymous", None
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


def _register(app: SandboxApp, request: Request) -> Reply:
    outcome = app.state.register(request.json())
    if outcome.kind == "invalid":
        return Reply(*wire.refused(app.dialect, list(outcome.errors)))
    assert outcome.inscription is not None
    if outcome.kind == "conflict":
        return Reply(*wire.conflict(app.dialect, outcome.inscription))
    status, body = wire.registered(
        app.state, app.dialect, outcome.inscription, outcome.immediate, app.empty_register_answer
    )
    return Reply(status, body, raw=b"" if body is None else None)


HANDLERS: dict[str, Callable[[SandboxApp, Request, str], Reply]] = {
    "token": lambda app, req, client: endpoints.issue_token(app, client),
    "captacao_login": lambda app, req, client: endpoints.captacao_login(app, client),
    "inscricoes_by_cpf": lambda app, req, client: endpoints.inscricoes(app, req.params["cpf"]),
    "matriculas_by_cpf": lambda app, req, client: endpoints.matriculas(app, req.params["cpf"]),
    "inscricao_status": lambda app, req, client: endpoints.inscricao_status(
        app, req.params["inscricao"], req.params.get("sistema")
    ),
    "register": lambda app, req, client: _register(app, req),
    "catalog_search": lambda app, req, client: endpoints.catalog_search(app, req.json()),
}
