"""Value types shared by the sandbox's app and endpoints: credentials, request, reply."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Credentials:
    """What the sandbox accepts (the defaults are the contract's sandbox credentials)."""

    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    subscription_key: str = "sandbox-subscription"
    captacao_email: str = "sandbox@example.com"
    captacao_password: str = "sandbox-password"
    catalog_api_key: str | None = "sandbox-api-key"  # None: the catalog wants no auth


@dataclass
class Request:
    """An HTTP request as the app sees it (headers keyed in lower case)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def form(self) -> dict[str, str]:
        """The body as a form (JSON objects accepted too, for lenient clients)."""
        if "json" in self.headers.get("content-type", ""):
            data = self.json()
            return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def bearer(self, scheme: str = "bearer") -> str | None:
        """The credential after ``Authorization: <scheme>``, if present."""
        parts = self.headers.get("authorization", "").split(None, 1)
        if len(parts) == 2 and parts[0].lower() == scheme:
            return parts[1].strip()
        return None


@dataclass
class Reply:
    """What to answer: JSON ``body`` (or ``raw`` bytes), or drop the connection."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    drop: bool = False

    def payload(self) -> bytes:
        """The bytes to send."""
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")
