"""Failure kinds of the external-system clients, one class per way a call can end badly.

Messages name the system and the endpoint (``kroton.inscricoes_by_cpf``), never a URL or a
value: paths contain CPFs, and Kroton's own messages are scrubbed before they are quoted.
"""

from __future__ import annotations

from typing import Any

from kroton_pipeline.clients.redaction import scrub


class KrotonError(Exception):
    """Base class of every client failure. ``endpoint`` is ``system.endpoint_name``."""

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class AuthenticationFailed(KrotonError):
    """A credential was refused (bad client secret, password, API key or subscription key).

    Terminal: the clients fail fast and do not retry, so a wrong secret costs one request.
    """


class RateLimited(KrotonError):
    """The API kept answering 429 after the configured number of honoured ``Retry-After``s."""


class TransientFailure(KrotonError):
    """Retries exhausted on transient failures (5xx, timeouts, connection errors, bad JSON).

    ``last_kind`` is ``"http_503"``, ``"timeout"``, ``"connect_error"``, ``"malformed"``...
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        attempts: int = 0,
        last_kind: str | None = None,
        last_status: int | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.attempts = attempts
        self.last_kind = last_kind
        self.last_status = last_status


class KrotonRejected(KrotonError):
    """A terminal 4xx answer: the request itself is wrong (invalid data, duplicate, unknown id).

    ``message`` and ``errors`` are Kroton's (scrubbed of personal data); ``body`` is the whole
    answer as Kroton sent it, e.g. for the ``inscricaoId`` of a 409 "CPF já possui inscrição
    ativa". ``body`` may hold personal data: store it, do not log it.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        status_code: int,
        kroton_message: str | None,
        errors: list[str] | None = None,
        body: Any = None,
    ) -> None:
        self.status_code = status_code
        self.message = scrub(kroton_message) if kroton_message else None
        self.errors = [scrub(str(e)) for e in errors or []]
        self.body = body
        detail = self.message or "no message"
        if self.errors:
            detail += f" ({'; '.join(self.errors)})"
        super().__init__(f"{endpoint} refused with HTTP {status_code}: {detail}", endpoint=endpoint)

    @property
    def existing_inscricao_id(self) -> str | None:
        """The existing inscription id Kroton names in a 409 answer, if any."""
        if isinstance(self.body, dict) and self.body.get("inscricaoId"):
            return str(self.body["inscricaoId"])
        return None


class NotFound(KrotonRejected):
    """HTTP 404: the inscription (or other resource) is unknown to Kroton."""


class OutcomeUnknown(KrotonError):
    """A non-idempotent request (the registration POST) may or may not have been processed.

    Raised on a timeout or lost connection after the request was sent, a 5xx answer, or an
    unreadable 2xx answer. The client never re-sends it: reconcile with a CPF look-up.
    """

    def __init__(self, message: str, *, endpoint: str | None = None, kind: str) -> None:
        super().__init__(message, endpoint=endpoint)
        self.kind = kind


class MalformedResponse(KrotonError):
    """A 2xx answer whose JSON does not have the documented shape (not retried)."""
