"""Fixtures for the operations tests: a local stand-in for Slack's Web API (real HTTP).

``fake_slack``  a ``FakeSlack`` server on a free port; ``fake_slack.url`` is the Web API base
                URL (``…/api/``), ``fake_slack.posts`` the ``chat.postMessage`` calls it got,
                each with its decoded JSON body and ``Authorization`` header.
``slack``       a ``KrotonSlackResource`` pointing at it (token ``xoxb-test``, channel ``#ops``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from kroton_pipeline.notifications.slack import KrotonSlackResource

TOKEN = "xoxb-test"
CHANNEL = "#ops"


@dataclass
class SlackCall:
    method: str
    authorization: str | None
    body: dict[str, Any]


@dataclass
class FakeSlack:
    """Records every Web API call; answers ``{"ok": true}`` like Slack does."""

    server: ThreadingHTTPServer
    calls: list[SlackCall] = field(default_factory=list)
    fail_with: str | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/"

    @property
    def posts(self) -> list[SlackCall]:
        return [call for call in self.calls if call.method == "chat.postMessage"]

    def texts(self) -> list[str]:
        """Every text a post carried (fallback and blocks), for content assertions."""
        return [json.dumps(call.body, ensure_ascii=False) for call in self.posts]


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                body = json.loads(raw or "{}")
            else:
                body = {key: values[0] for key, values in parse_qs(raw).items()}
            method = self.path.rsplit("/", 1)[-1]
            fake.calls.append(SlackCall(method, self.headers.get("Authorization"), body))
            answer: dict[str, Any] = (
                {"ok": False, "error": fake.fail_with}
                if fake.fail_with
                else {"ok": True, "channel": "C123", "ts": f"{len(fake.calls)}.000100"}
            )
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeSlack(server)
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def slack(fake_slack: FakeSlack) -> KrotonSlackResource:
    return KrotonSlackResource(
        token=TOKEN,
        channel=CHANNEL,
        base_url=fake_slack.url,
        webserver_url="https://dagster.example.org",
    )
