"""Bearer tokens issued by the sandbox (Kroton OAuth2 and Captação login)."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class IssuedToken:
    """One token: which API issued it, to whom, and until when (sandbox clock)."""

    kind: str  # "kroton" or "captacao"
    owner: str  # client_id or e-mail
    expires_at: float


class TokenStore:
    """Issues, resolves and revokes tokens; expiry is judged against the sandbox clock."""

    def __init__(self) -> None:
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()

    def issue(self, kind: str, owner: str, now: float, ttl: float) -> str:
        """Create a token valid for ``ttl`` seconds from ``now``."""
        token = f"sbx-{kind}-{secrets.token_urlsafe(24)}"
        with self._lock:
            self._tokens[token] = IssuedToken(kind, owner, now + ttl)
        return token

    def owner(self, kind: str, token: str | None, now: float) -> str | None:
        """Owner of a valid, unexpired token of ``kind``; None otherwise."""
        if not token:
            return None
        with self._lock:
            issued = self._tokens.get(token)
            if issued is None or issued.kind != kind:
                return None
            if issued.expires_at <= now:
                del self._tokens[token]
                return None
            return issued.owner

    def revoke_all(self) -> None:
        """Invalidate every token issued so far."""
        with self._lock:
            self._tokens.clear()
