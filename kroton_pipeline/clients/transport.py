"""The one request loop shared by the Kroton, Captação and catalog clients.

Every attempt draws one request from the API's shared budget, then is classified:

- 2xx with JSON: done.
- 401: the caller's authenticator drops its token and the request is retried once; a second
  401 (or a 401 on the token endpoint itself) is :class:`AuthenticationFailed`.
- 429: wait ``Retry-After`` and retry; this does not use up an attempt.
- 5xx, timeouts, connection errors, unreadable JSON: exponential backoff with jitter, at most
  ``max_attempts`` attempts, then :class:`TransientFailure`.
- other 4xx: :class:`KrotonRejected` with Kroton's message (:class:`NotFound` for 404).

A non-idempotent request (the registration POST) is never re-sent once it may have reached
Kroton: a timeout or lost connection after sending, a 5xx or an unreadable 2xx answer raise
:class:`OutcomeUnknown`. Only failures that prove nothing was processed (connection refused,
connect timeout, 401, 429) are retried.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from kroton_pipeline.clients.counters import ClientCounters
from kroton_pipeline.clients.errors import (
    AuthenticationFailed,
    KrotonRejected,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    TransientFailure,
)
from kroton_pipeline.clients.rate_limit import RateBudget
from kroton_pipeline.clients.redaction import install_library_log_filters, scrub

logger = logging.getLogger("kroton_pipeline.clients")


class LogSink(Protocol):
    """A Python logger or Dagster's ``context.log``."""

    def debug(self, msg: str) -> Any: ...
    def info(self, msg: str) -> Any: ...
    def warning(self, msg: str) -> Any: ...
    def error(self, msg: str) -> Any: ...


class Authenticator(Protocol):
    """Gives the auth headers of a request and forgets a token the API refused."""

    def headers(self) -> dict[str, str]: ...
    def invalidate(self, used: Mapping[str, str]) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a client tries. Waiting for the budget or for ``Retry-After`` is not an attempt."""

    max_attempts: int = 5
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    max_rate_limited_waits: int = 20
    max_retry_after_seconds: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay after failed attempt ``attempt`` (1-based): exponential, "equal jitter"."""
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


# httpx failures that prove the request never reached the server.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


def _failure_kind(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return "connect_timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "connection_lost"


def retry_after_seconds(value: str | None, default: float = 1.0) -> float:
    """Parse a ``Retry-After`` header (seconds or HTTP date)."""
    if not value:
        return default
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(moment.timestamp() - time.time(), 0.0)


# At most one "waiting for the budget" line per this many seconds of a run.
WAIT_REPORT_SECONDS = 30.0


class Transport:
    """Sends requests for one system (``kroton``, ``captacao``, ``catalog``)."""

    def __init__(
        self,
        *,
        system: str,
        http: httpx.Client,
        budget: RateBudget,
        policy: RetryPolicy,
        counters: ClientCounters,
        log: LogSink | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        install_library_log_filters()
        self.system = system
        self.http = http
        self.budget = budget
        self.policy = policy
        self.counters = counters
        self.log: LogSink = log or logger
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._waits_since_report = 0
        self._waited_since_report = 0.0
        self._last_wait_report = float("-inf")

    def _draw_budget(self) -> None:
        waited = self.budget.acquire()
        if waited > 0:
            self.counters.add("budget_waits")
            self.counters.add("budget_wait_seconds", waited)

    def on_budget_wait(self, seconds: float, budget: str) -> None:
        """Progress report while the shared budget is exhausted (not a failure).

        Once the budget is the bottleneck nearly every request waits: one line per
        ``WAIT_REPORT_SECONDS`` sums them up instead of one line per request.
        """
        self._waits_since_report += 1
        self._waited_since_report += seconds
        self.counters.note_longest_sleep(seconds)
        now = time.monotonic()
        if now - self._last_wait_report < WAIT_REPORT_SECONDS:
            return
        self.log.info(
            f"waiting for the {budget}: {self._waits_since_report} wait(s), "
            f"{self._waited_since_report:.1f} s since the last report"
        )
        self._last_wait_report = now
        self._waits_since_report = 0
        self._waited_since_report = 0.0

    def call(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        auth: Authenticator | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
        auth_endpoint: bool = False,
        subject: str | None = None,
        timeout: float | None = None,
        before_send: Callable[[], None] | None = None,
    ) -> Any:
        """Send one logical request; return the decoded JSON of its 2xx answer.

        An empty 2xx answer (no body, or 204) is ``None``. ``subject`` is a masked identifier
        for log lines (e.g. a masked CPF); ``path`` is never logged. ``auth_endpoint`` marks a
        token/login request: any 4xx there is a bad credential. ``timeout`` overrides the
        client's timeout for this request. ``before_send`` runs after the budget is drawn and
        just before each attempt goes out; whatever it raises stops the request unsent.
        """
        label = f"{self.system}.{endpoint}" + (f" [{subject}]" if subject else "")
        attempt = 1
        renewed = False
        rate_limited = 0
        while True:
            request_headers = dict(headers or {})
            if auth is not None:
                request_headers.update(auth.headers())
            self._draw_budget()
            if before_send is not None:
                try:
                    before_send()
                except BaseException:
                    self.budget.settle()
                    raise
            try:
                response = self.http.request(
                    method,
                    path,
                    json=json,
                    data=data,
                    headers=request_headers,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except (httpx.TransportError, httpx.DecodingError) as exc:
                self.budget.settle()
                kind = _failure_kind(exc)
                self.counters.count_request(endpoint, kind)
                if not idempotent and not isinstance(exc, _NOT_SENT):
                    self._unknown(label, endpoint, kind)
                status = None
            else:
                self.budget.settle()
                status = response.status_code
                self.counters.count_request(endpoint, status)
                if 200 <= status < 300:
                    if status == 204 or not response.content.strip():
                        return None
                    try:
                        return response.json()
                    except ValueError:
                        kind = "malformed"
                        if not idempotent:
                            self._unknown(label, endpoint, kind)
                elif status == 401 and not auth_endpoint and auth is not None and not renewed:
                    self.log.info(f"{label}: token refused (HTTP 401), renewing it once")
                    self.counters.add("token_renewals_on_401")
                    auth.invalidate(request_headers)
                    renewed = True
                    continue
                elif status in (401, 403) or (auth_endpoint and 400 <= status < 500):
                    self._auth_failed(label, endpoint, response)
                elif status == 429:
                    rate_limited += 1
                    self._honour_retry_after(label, endpoint, response, rate_limited)
                    continue
                elif status >= 500 or status == 408:
                    kind = f"http_{status}"
                    if not idempotent:
                        self._unknown(label, endpoint, kind)
                else:
                    self._rejected(label, endpoint, response)
            # A transient failure: back off, or give up when the attempts are used.
            if attempt >= self.policy.max_attempts:
                message = f"{label}: gave up after {attempt} attempts, last failure {kind}"
                self.log.error(message)
                raise TransientFailure(
                    message,
                    endpoint=f"{self.system}.{endpoint}",
                    attempts=attempt,
                    last_kind=kind,
                    last_status=status,
                )
            delay = self.policy.backoff(attempt, self.rng)
            self.log.warning(
                f"{label}: attempt {attempt}/{self.policy.max_attempts} failed ({kind}), "
                f"retrying in {delay:.2f} s"
            )
            self.counters.add("retries")
            self.sleep(delay)
            attempt += 1

    def _honour_retry_after(
        self, label: str, endpoint: str, response: httpx.Response, count: int
    ) -> None:
        self.counters.add("rate_limited")
        if count > self.policy.max_rate_limited_waits:
            message = f"{label}: still rate limited (HTTP 429) after {count - 1} waits"
            self.log.error(message)
            raise RateLimited(message, endpoint=f"{self.system}.{endpoint}")
        wait = min(
            retry_after_seconds(response.headers.get("Retry-After")),
            self.policy.max_retry_after_seconds,
        )
        wait += self.rng.uniform(0, 0.1 * max(wait, 1.0))
        self.log.warning(
            f"{label}: rate limit hit (HTTP 429), waiting {wait:.1f} s as Retry-After asks "
            "(not counted as an attempt)"
        )
        self.counters.add("retry_after_wait_seconds", wait)
        self.sleep(wait)

    def _unknown(self, label: str, endpoint: str, kind: str) -> None:
        self.counters.add("unknown_outcomes")
        message = (
            f"{label}: outcome unknown ({kind}) — the request may have been processed; "
            "not re-sent, reconcile with a look-up"
        )
        self.log.error(message)
        raise OutcomeUnknown(message, endpoint=f"{self.system}.{endpoint}", kind=kind)

    def _auth_failed(self, label: str, endpoint: str, response: httpx.Response) -> None:
        body = _json_or_none(response)
        detail = _kroton_message(body) or "no message"
        message = (
            f"{label}: credentials refused (HTTP {response.status_code}): {scrub(detail)} — "
            f"check the {self.system} credentials and subscription key"
        )
        self.log.error(message)
        raise AuthenticationFailed(message, endpoint=f"{self.system}.{endpoint}")

    def _rejected(self, label: str, endpoint: str, response: httpx.Response) -> None:
        body = _json_or_none(response)
        errors = body.get("errors") if isinstance(body, dict) else None
        cls = NotFound if response.status_code == 404 else KrotonRejected
        exc = cls(
            endpoint=label,
            status_code=response.status_code,
            kroton_message=_kroton_message(body),
            errors=errors if isinstance(errors, list) else None,
            body=body,
        )
        self.log.warning(str(exc))
        raise exc


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _kroton_message(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    for key in ("message", "error_description", "error", "data"):
        if isinstance(body.get(key), str | int | float) and body.get(key):
            return str(body[key])
    return None


def build_transport(
    *,
    system: str,
    base_url: str,
    headers: Mapping[str, str],
    timeout_seconds: float,
    budget: RateBudget,
    policy: RetryPolicy | None,
    counters: ClientCounters,
    log: LogSink,
    sleep: Callable[[float], None],
    rng: random.Random | None,
) -> Transport:
    """An httpx client plus :class:`Transport`; the budget reports its waits through it."""
    http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_seconds, headers=headers)
    transport = Transport(
        system=system,
        http=http,
        budget=budget,
        policy=policy or RetryPolicy(),
        counters=counters,
        log=log,
        sleep=sleep,
        rng=rng,
    )
    if getattr(budget, "on_wait", None) is None:
        budget.on_wait = transport.on_budget_wait  # type: ignore[attr-defined]
    return transport
