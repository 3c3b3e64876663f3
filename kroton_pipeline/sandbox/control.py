"""The sandbox control API (``/_sandbox/...``): journal, faults, clock, config, inscriptions.

No authentication, never journaled. Errors answer 400 with {"message": ...}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kroton_pipeline.sandbox.messages import Reply, Request

if TYPE_CHECKING:
    from kroton_pipeline.sandbox.app import SandboxApp


def _body(request: Request) -> dict[str, Any]:
    data = request.json()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def _requests(app: SandboxApp, request: Request) -> Reply:
    if request.method == "DELETE":
        app.journal.clear()
        return Reply(200, {"cleared": True})
    return Reply(200, app.journal.entries())


def _faults(app: SandboxApp, request: Request) -> Reply:
    if request.method == "DELETE":
        app.faults.clear()
    elif request.method == "POST":
        body = _body(request)
        endpoint = str(body.pop("endpoint", "*"))
        app.faults.set(endpoint, **body)
    return Reply(200, app.faults.snapshot())


def _clock(app: SandboxApp, request: Request) -> Reply:
    if request.method == "POST":
        app.clock.advance(float(_body(request).get("advance_seconds", 0)))
    return Reply(200, {"now": app.clock.now()})


def _revoke(app: SandboxApp, request: Request) -> Reply:
    app.state.tokens.revoke_all()
    return Reply(200, {"revoked": True})


def _config(app: SandboxApp, request: Request) -> Reply:
    if request.method == "POST":
        return Reply(200, app.configure(**_body(request)))
    return Reply(200, app.settings())


def _inscriptions(app: SandboxApp, request: Request) -> Reply:
    if request.method == "POST":
        body = _body(request)
        if not isinstance(body.get("cpf"), str):
            raise ValueError("cpf is required")
        ins = app.state.preseed(
            body["cpf"],
            body.get("classificacao"),
            bool(body.get("enrolled", False)),
            float(body.get("age_days", 0)),
        )
        held = [i for i in app.state.snapshot() if i["inscricaoId"] == ins.inscricao_id]
        return Reply(200, held[0])
    return Reply(200, app.state.snapshot())


def _health(app: SandboxApp, request: Request) -> Reply:
    return Reply(200, {"ok": True, "seed": app.seed, "now": app.clock.now()})


ROUTES: dict[str, tuple[tuple[str, ...], Callable[[SandboxApp, Request], Reply]]] = {
    "/_sandbox": (("GET",), _health),
    "/_sandbox/requests": (("GET", "DELETE"), _requests),
    "/_sandbox/faults": (("GET", "POST", "DELETE"), _faults),
    "/_sandbox/clock": (("GET", "POST"), _clock),
    "/_sandbox/revoke-tokens": (("POST",), _revoke),
    "/_sandbox/config": (("GET", "POST"), _config),
    "/_sandbox/inscriptions": (("GET", "POST"), _inscriptions),
}


def handle_control(app: SandboxApp, request: Request) -> Reply:
    """Answer a control request."""
    route = ROUTES.get(request.path.rstrip("/") or "/")
    if route is None:
        return Reply(404, {"message": "unknown control path"})
    methods, handler = route
    if request.method not in methods:
        return Reply(405, {"message": f"use {', '.join(methods)}"})
    try:
        return handler(app, request)
    except (ValueError, TypeError) as error:
        return Reply(400, {"message": str(error)})
