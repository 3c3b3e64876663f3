"""The sandbox's HTTP plumbing and ``SandboxServer``, the in-process handle tests use."""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from kroton_pipeline.sandbox import wire
from kroton_pipeline.sandbox.app import SandboxApp
from kroton_pipeline.sandbox.messages import Request


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP/1.1 requests into ``Request``s for the app and writes its ``Reply``."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the real gateway allows
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle plus delayed ACKs
        # add ~40 ms to every kept-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(self.command, urlsplit(self.path).path, headers, body)
        reply = self.server.app.handle(request)
        if reply.drop:
            # An injected timeout: never answer, just hang up.
            self.close_connection = True
            return
        payload = reply.payload()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines carry CPFs, which must not reach logs."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Hang up kept-alive connections so their handler threads end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class SandboxServer:
    """The Kroton simulator on a real port, served from a background thread.

    Usage: ``with SandboxServer(port=0, seed=7) as sb: httpx.get(sb.kroton_url + ...)``.
    Port 0 picks a free port; the URLs are known once started.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        seed: int = 7,
        rate_limit: int = 100,
        rate_window: float = 300.0,
        token_ttl: float = 60.0,
        captacao_token_ttl: float = 86_400.0,
        timeout_seconds: float = 30.0,
        **app_options: Any,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.app = SandboxApp(
            seed=seed,
            rate_limit=rate_limit,
            rate_window=rate_window,
            token_ttl=token_ttl,
            captacao_token_ttl=captacao_token_ttl,
            timeout_seconds=timeout_seconds,
            **app_options,
        )
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        """Bind the port and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self.app.stopping.clear()
        self._httpd = _HTTPServer((self.host, self._requested_port), self.app)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"kroton-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut injected sleeps short and release the port."""
        if self._httpd is None:
            return
        self.app.stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (used by the CLI)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound port (raises before start)."""
        if self._httpd is None:
            raise RuntimeError("the sandbox is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def kroton_url(self) -> str:
        """Base URL of the Kroton API (API_KROTON_BASE_URL)."""
        return self.base_url + "/kroton"

    @property
    def captacao_url(self) -> str:
        """Base URL of the Captação API (API_KROTON_BASE_URL_CAPTACAO)."""
        return self.base_url + "/captacao"

    @property
    def catalog_url(self) -> str:
        """Base URL of the catalog middleware (CATALOG_KROTON_BASE_URL)."""
        return self.base_url + "/catalog"

    @property
    def journal_url(self) -> str:
        """The request journal of the control API."""
        return self.base_url + "/_sandbox/requests"

    # -- control ---------------------------------------------------------------------------
    @property
    def state(self) -> Any:
        """The in-memory ``SandboxState`` (tokens, inscriptions, enrolments)."""
        return self.app.state

    @property
    def clock(self) -> Any:
        """The ``SandboxClock``."""
        return self.app.clock

    def journal(self) -> list[dict[str, Any]]:
        """Every request received by the simulated systems, oldest first."""
        return self.app.journal.entries()

    def clear_journal(self) -> None:
        """Forget the journal."""
        self.app.journal.clear()

    def advance(self, seconds: float) -> float:
        """Move the sandbox clock forward; returns the new unix time."""
        return self.app.clock.advance(seconds)

    def now(self) -> float:
        """The sandbox clock's unix time."""
        return self.app.clock.now()

    def set_faults(self, endpoint: str = "*", **settings: Any) -> None:
        """Replace the faults of one endpoint (or "*"); see ``faults.FaultSettings``."""
        self.app.faults.set(endpoint, **settings)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.app.faults.clear()

    def revoke_tokens(self) -> None:
        """Invalidate every issued token (Kroton and Captação)."""
        self.app.state.tokens.revoke_all()

    def configure(self, **settings: Any) -> dict[str, float]:
        """Change rate_limit, rate_window, token_ttl, captacao_token_ttl, timeout_seconds."""
        return self.app.configure(**settings)

    @property
    def dialect(self) -> str:
        """The wire format spoken: ``source`` or ``v5``."""
        return self.app.dialect

    def cpf_lookup(self, cpf: str) -> Any:
        """What the CPF look-up answers now, in the sandbox's dialect (nothing journaled)."""
        return wire.cpf_lookup(self.app.state, self.app.dialect, cpf)

    def inscriptions(self) -> list[dict[str, Any]]:
        """Every inscription the sandbox holds (as GET /_sandbox/inscriptions)."""
        return self.app.state.snapshot()

    def preseed(
        self,
        cpf: str,
        classificacao: str | None = None,
        enrolled: bool = False,
        age_days: float = 0.0,
    ) -> str:
        """Give a CPF an existing inscription (and enrolment) made ``age_days`` ago; returns
        its inscricaoId."""
        return self.app.state.preseed(cpf, classificacao, enrolled, age_days).inscricao_id
