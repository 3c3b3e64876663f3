"""The simulated endpoints proper, once a request has passed auth, rate limit and faults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kroton_pipeline.sandbox import wire
from kroton_pipeline.sandbox.messages import Credentials, Reply
from kroton_pipeline.sandbox.query import QueryError
from kroton_pipeline.sandbox.validation import cpf_digits

if TYPE_CHECKING:
    from kroton_pipeline.sandbox.app import SandboxApp


def check_client_credentials(
    creds: Credentials, form: dict[str, str]
) -> tuple[str | None, Reply | None]:
    """OAuth2 client-credentials check of a token request: (client_id, None) or an error."""
    if form.get("grant_type") != "client_credentials":
        return None, Reply(
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": "grant_type must be client_credentials",
            },
        )
    if (form.get("client_id"), form.get("client_secret")) != (creds.client_id, creds.client_secret):
        return None, Reply(
            401, {"error": "invalid_client", "error_description": "Client authentication failed."}
        )
    # The design document sends scope=<subscription key>; production integrations send no
    # scope. Both are served; a scope that is not the subscription key is refused.
    if form.get("scope") not in (None, "", creds.subscription_key):
        return None, Reply(
            400,
            {"error": "invalid_scope", "error_description": "scope must be the subscription key"},
        )
    return creds.client_id, None


def issue_token(app: SandboxApp, client: str) -> Reply:
    """POST /oauth2/token: a Bearer token valid for the configured TTL."""
    token = app.state.tokens.issue("kroton", client, app.clock.now(), app.token_ttl)
    return Reply(
        200, {"access_token": token, "token_type": "Bearer", "expires_in": int(app.token_ttl)}
    )


def captacao_login(app: SandboxApp, client: str) -> Reply:
    """POST /auth/login: a long-lived Captação token."""
    token = app.state.tokens.issue("captacao", client, app.clock.now(), app.captacao_token_ttl)
    return Reply(200, {"token": token, "expiresIn": int(app.captacao_token_ttl)})


def _bad_cpf() -> Reply:
    return Reply(400, {"statusCode": 400, "message": "CPF deve ter 11 dígitos"})


def inscricoes(app: SandboxApp, cpf: str) -> Reply:
    """GET inscriptions by CPF (digits or punctuated), in the app's dialect."""
    if len(cpf_digits(cpf)) != 11:
        return _bad_cpf()
    return Reply(200, wire.cpf_lookup(app.state, app.dialect, cpf))


def matriculas(app: SandboxApp, cpf: str) -> Reply:
    """GET enrolments by CPF."""
    if len(cpf_digits(cpf)) != 11:
        return _bad_cpf()
    return Reply(200, app.state.matriculas_view(cpf))


def inscricao_status(app: SandboxApp, inscricao_id: str, sistema: str | None) -> Reply:
    """GET one inscription (404 if unknown, or not in the system the path names)."""
    ins = app.state.find(inscricao_id)
    if ins is None or (sistema is not None and ins.sistema != sistema.upper()):
        return Reply(404, {"message": "Inscrição não encontrada"})
    return Reply(200, wire.inscription_state(app.state, app.dialect, ins))


def catalog_search(app: SandboxApp, body: Any) -> Reply:
    """POST _search on the offers index."""
    try:
        return Reply(200, app.catalog.search_response(body, app.clock.today()))
    except QueryError as error:
        reason = {"type": "parsing_exception", "reason": str(error)}
        return Reply(400, {"error": {"root_cause": [reason], **reason}, "status": 400})
