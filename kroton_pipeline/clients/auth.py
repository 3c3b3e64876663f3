"""Token caches for Kroton's OAuth2 client credentials and Captação's e-mail/password login.

A token is reused until shortly before it expires (by this process's clock); when the API
still refuses it (401: revoked, or the server's clock ran ahead), the transport calls
:meth:`TokenCache.invalidate` and the next request fetches a new one, once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from kroton_pipeline.clients.models import CaptacaoLoginResponse, TokenResponse, parse_answer
from kroton_pipeline.clients.transport import LogSink, Transport

Fetch = Callable[[], tuple[str, float]]


class TokenCache:
    """Holds one bearer token; thread-safe, so concurrent callers trigger a single fetch."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        margin_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        log: LogSink | None = None,
        name: str = "token",
    ) -> None:
        self._fetch = fetch
        self.margin_seconds = margin_seconds
        self.clock = clock
        self.log = log
        self.name = name
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        """A valid token, fetched when missing or about to expire."""
        with self._lock:
            if self._token is None or self.clock() >= self._renew_at:
                token, expires_in = self._fetch()
                # Renew "shortly before" expiry; for very short-lived tokens, at half-life.
                margin = min(self.margin_seconds, expires_in / 2)
                self._token = token
                self._renew_at = self.clock() + expires_in - margin
                if self.log is not None:
                    self.log.info(f"{self.name} obtained, valid for {expires_in:g} s")
            return self._token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def invalidate(self, used: Mapping[str, str]) -> None:
        """Forget the token if it is the one a request was refused with."""
        with self._lock:
            if self._token is not None and used.get("Authorization") == f"Bearer {self._token}":
                self._token = None

    def clear(self) -> None:
        with self._lock:
            self._token = None


def oauth_client_credentials(
    transport: Transport,
    *,
    client_id: str,
    client_secret: str,
    scope: str | None,
    path: str = "/oauth2/token",
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Fetch:
    """Fetch function for the OAuth2 token request (form-encoded client credentials).

    ``scope`` is sent only when given (the design document sends the subscription key;
    production integrations send none); ``headers`` are added to the request (the gateway's
    subscription key, where the token endpoint wants it).
    """
    form = {
        "client_id": client_id,
        "client_secret": client_secret,
        "grant_type": "client_credentials",
    }
    if scope:
        form["scope"] = scope

    def fetch() -> tuple[str, float]:
        transport.counters.add("token_fetches")
        body = transport.call(
            "token",
            "POST",
            path,
            data=form,
            headers=headers,
            auth_endpoint=True,
            timeout=timeout,
        )
        answer = parse_answer(TokenResponse, body, f"{transport.system}.token")
        return answer.access_token, float(answer.expires_in)

    return fetch


def captacao_login(
    transport: Transport,
    *,
    email: str,
    password: str,
    headers: Mapping[str, str] | None = None,
) -> Fetch:
    """Fetch function for Captação's ``POST /auth/login`` (JSON e-mail and password)."""

    def fetch() -> tuple[str, float]:
        transport.counters.add("token_fetches")
        body = transport.call(
            "captacao_login",
            "POST",
            "/auth/login",
            json={"email": email, "password": password},
            headers=headers,
            auth_endpoint=True,
        )
        answer = parse_answer(CaptacaoLoginResponse, body, f"{transport.system}.captacao_login")
        return answer.token, float(answer.expires_in)

    return fetch
