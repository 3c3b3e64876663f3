"""How every request to an external API goes out: budget, retries, counters, failures, redaction.

Sections, in the order of the code:

**transport**: The one request loop shared by the Kroton, Captação and catalog clients.

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

**errors**: Failure kinds of the external-system clients, one class per way a call can end badly.

Messages name the system and the endpoint (``kroton.inscricoes_by_cpf``), never a URL or a
value: paths contain CPFs, and Kroton's own messages are scrubbed before they are quoted.

**redaction**: Masking for the clients' log lines and exception messages (LGPD).

The clients log endpoint *names* and masked CPFs, never URLs. Two places still see personal
data and are covered here: Kroton's own messages (scrubbed before they are quoted) and the
HTTP libraries' log lines, whose URLs contain the CPF of every look-up.

**counters**: Per-run counters of one client, for asset metadata and Slack summaries.

**rate_limit**: One request budget per external API, shared by every run, process and thread.

Kroton allows 100 requests per 5 minutes per client; several Dagster runs (a backfill, the
daily schedule, a manual re-run) may call it at once from different processes, so the budget
lives in the project's database: a sliding-window log in the ``rate_limit_events`` table.

Acquiring one request is one short transaction under a lock — PostgreSQL:
``pg_advisory_xact_lock(<hash of the bucket>)``; SQLite: ``BEGIN IMMEDIATE`` (the database
write lock; ``busy_timeout`` makes the other processes wait for it) — that deletes the events
older than the window, counts the rest, and inserts one if the count is below the limit;
otherwise it returns how long until the oldest event leaves the window. The caller sleeps
*outside* the transaction and tries again. Waiting is reported through ``on_wait`` as
progress and is never a failed attempt.

Why not pyrate-limiter (4.5, evaluated): its ``SQLiteBucket`` needs its own SQLite file plus
the ``filelock`` package for multi-process use, and takes its time from SQLite, not an
injectable clock; its ``PostgresBucket`` needs psycopg 3 and psycopg_pool while the project
ships psycopg2. Neither works from the project's one SQLAlchemy URL on both
databases, so this ~150-line log over SQLAlchemy is simpler to own than two adapters.

The API counts a request when it *arrives*, the budget when it is *drawn*: a request drawn at
the very end of a window may arrive (on a busy machine, noticeably) after one drawn at the
start of the next. So each request's entry is *settled* when its answer comes back: its time
moves to the completion time, a bound on its arrival, and the window counts from there. A
small safety margin on the window covers the rest (clock reads, scheduling).

Time comes from the database server under the lock on PostgreSQL (``clock_timestamp()``), so
processes on hosts whose clocks disagree still count one window; on SQLite (one host by
nature) and for the process-local budget it is the wall clock, injectable for tests. A wait
is never longer than one window and is slept in slices that re-check the log, so no clock,
however wrong, makes a process exceed the limit or sleep for an hour.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from sqlalchemy import Engine, delete, insert, select, text, update

from kroton_pipeline.db.engine import is_sqlite, make_engine
from kroton_pipeline.db.models import RateLimitEvent
from kroton_pipeline.domain.leads import PersonalDataFilter, scrub

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


# A filter on a logger only sees records logged on that very logger, so every logger the
# libraries write to is listed (httpx logs each request with its URL at INFO).
LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


def install_library_log_filters() -> None:
    """Scrub every record of the HTTP libraries' loggers (idempotent)."""
    for name in LIBRARY_LOGGERS:
        library_logger = logging.getLogger(name)
        if not any(isinstance(f, PersonalDataFilter) for f in library_logger.filters):
            library_logger.addFilter(PersonalDataFilter())


# Counters of :meth:`ClientCounters.as_metadata` shown as API figures -> their metadata key
# suffix (asset metadata and Slack alerts).
API_FIGURES = {
    "requests_total": "requests",
    "retries": "retries",
    "rate_limited": "rate_limited_429",
    "budget_waits": "budget_waits",
    "budget_wait_seconds": "budget_wait_seconds",
    "retry_after_wait_seconds": "retry_after_wait_seconds",
}


@dataclass
class ClientCounters:
    """What one client did during a run. Thread-safe; read with :meth:`as_metadata`.

    ``requests`` counts every attempt by ``(endpoint, outcome)`` where the outcome is the HTTP
    status code (``"200"``, ``"429"``) or a failure kind (``"timeout"``, ``"connect_error"``,
    ``"connection_lost"``). Waiting for the shared budget is not an attempt: it is summed in
    ``budget_wait_seconds``.
    """

    system: str
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    retries: int = 0
    rate_limited: int = 0
    retry_after_wait_seconds: float = 0.0
    budget_waits: int = 0
    budget_wait_seconds: float = 0.0
    budget_longest_sleep_seconds: float = 0.0
    unknown_outcomes: int = 0
    token_fetches: int = 0
    token_renewals_on_401: int = 0
    dry_run_payloads: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, amount: float = 1) -> None:
        """Add ``amount`` to the counter attribute ``name``."""
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def note_longest_sleep(self, seconds: float) -> None:
        """Keep the longest single sleep spent waiting for the budget."""
        with self._lock:
            self.budget_longest_sleep_seconds = max(self.budget_longest_sleep_seconds, seconds)

    def count_request(self, endpoint: str, outcome: str | int) -> None:
        with self._lock:
            self.requests[(endpoint, str(outcome))] += 1

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def as_metadata(self) -> dict[str, int | float]:
        """Flat ``{name: number}`` dict, e.g. ``kroton.requests.register.200``.

        Plain ints and floats, so Dagster plots them across materializations.
        """
        prefix = self.system
        with self._lock:
            data: dict[str, int | float] = {
                f"{prefix}.requests.{endpoint}.{outcome}": count
                for (endpoint, outcome), count in sorted(self.requests.items())
            }
            data[f"{prefix}.requests_total"] = sum(self.requests.values())
            for name in (
                "retries",
                "rate_limited",
                "budget_waits",
                "unknown_outcomes",
                "token_fetches",
                "token_renewals_on_401",
                "dry_run_payloads",
            ):
                data[f"{prefix}.{name}"] = int(getattr(self, name))
            data[f"{prefix}.budget_wait_seconds"] = round(self.budget_wait_seconds, 3)
            data[f"{prefix}.budget_longest_sleep_seconds"] = round(
                self.budget_longest_sleep_seconds, 3
            )
            data[f"{prefix}.retry_after_wait_seconds"] = round(self.retry_after_wait_seconds, 3)
        return data


Clock = Callable[[], float]


Sleep = Callable[[float], None]


OnWait = Callable[[float, str], None]


_events = RateLimitEvent.__table__


def default_margin(window_seconds: float) -> float:
    """Safety margin added to the window: 1 % of it, at least 0.25 s."""
    return max(0.25, 0.01 * window_seconds)


def window_wait(times: Sequence[float], now: float, limit: int, window: float) -> float:
    """Seconds until one more request fits, given the sorted draw times still in the window.

    0 when ``len(times) < limit``; otherwise until the ``limit``-th most recent draw expires.
    """
    if len(times) < limit:
        return 0.0
    blocking = times[len(times) - limit]
    return max(blocking + window - now, 0.001)


class RateBudget(Protocol):
    """What the transport needs from a budget."""

    bucket: str

    def acquire(self) -> float:
        """Block until one request may be sent; return the seconds waited."""
        ...

    def describe(self) -> str: ...

    def settle(self) -> None:
        """The last request drawn by this thread was answered (see the module docstring)."""
        ...


class _BudgetBase:
    def __init__(
        self,
        bucket: str,
        limit: int,
        window_seconds: float,
        *,
        safety_margin_seconds: float | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        on_wait: OnWait | None = None,
        wake_jitter_seconds: float = 0.05,
        max_sleep_seconds: float | None = None,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError(f"rate budget {bucket!r} needs limit >= 1 and a positive window")
        self.bucket = bucket
        self.limit = int(limit)
        self.window_seconds = float(window_seconds)
        if safety_margin_seconds is None:
            safety_margin_seconds = default_margin(window_seconds)
        self.effective_window = self.window_seconds + safety_margin_seconds
        self.clock = clock
        self.sleep = sleep
        self.on_wait = on_wait
        # Processes that wait for the same freed slot wake at slightly different times.
        self.wake_jitter_seconds = wake_jitter_seconds
        # Longest single sleep before the log is read again.
        self.max_sleep_seconds = (
            max_sleep_seconds if max_sleep_seconds is not None else max(1.0, window_seconds / 20)
        )

    def describe(self) -> str:
        return f"{self.bucket} budget ({self.limit} per {self.window_seconds:g} s)"

    def try_acquire(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def settle(self) -> None:
        """The request drawn last by this thread got its answer: count it from now on."""

    def acquire(self) -> float:
        """Block until one request may be sent; return the seconds slept waiting for it."""
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return waited
            # Never more than a window, slept in slices that re-read the log.
            wait = min(wait, self.effective_window, self.max_sleep_seconds)
            if self.wake_jitter_seconds:
                wait += random.uniform(0, self.wake_jitter_seconds)
            if self.on_wait is not None:
                self.on_wait(wait, self.describe())
            self.sleep(wait)
            waited += wait


class DatabaseRateBudget(_BudgetBase):
    """The deployment-wide budget, kept in ``rate_limit_events`` (SQLite or PostgreSQL).

    The table comes from the migrations; in tests, ``Base.metadata.create_all``.
    """

    def __init__(
        self,
        database: str | Engine,
        bucket: str,
        limit: int,
        window_seconds: float,
        **kwargs: object,
    ) -> None:
        super().__init__(bucket, limit, window_seconds, **kwargs)  # type: ignore[arg-type]
        self.engine = shared_engine(database) if isinstance(database, str) else database
        self._sqlite = self.engine.dialect.name == "sqlite"
        # Advisory-lock key: a stable 31-bit hash of the bucket name, the same in every process.
        self._lock_key = zlib.crc32(f"kroton_pipeline.rate_budget.{bucket}".encode()) & 0x7FFFFFFF
        self._drawn = threading.local()

    def try_acquire(self) -> float:
        """Draw one request if the window has room (0.0), else the seconds to wait."""
        if self._sqlite:
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    wait = self._draw(conn)
                except BaseException:
                    conn.exec_driver_sql("ROLLBACK")
                    raise
                conn.exec_driver_sql("COMMIT")
                return wait
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self._lock_key})
            return self._draw(conn)

    def _now(self, conn) -> float:
        """Seconds since the epoch: the database server's clock on PostgreSQL."""
        if self._sqlite:
            return self.clock()
        return float(conn.execute(text("SELECT extract(epoch from clock_timestamp())")).scalar())

    def _draw(self, conn) -> float:
        now = self._now(conn)
        conn.execute(
            delete(_events).where(
                _events.c.bucket == self.bucket, _events.c.at <= now - self.effective_window
            )
        )
        times = (
            conn.execute(
                select(_events.c.at).where(_events.c.bucket == self.bucket).order_by(_events.c.at)
            )
            .scalars()
            .all()
        )
        wait = window_wait(times, now, self.limit, self.effective_window)
        if wait == 0.0:
            result = conn.execute(insert(_events).values(bucket=self.bucket, at=now))
            self._drawn.event_id = result.inserted_primary_key[0]
        return wait

    def settle(self) -> None:
        event_id = getattr(self._drawn, "event_id", None)
        if event_id is None:
            return
        self._drawn.event_id = None
        # A later time only ever shrinks what the next draws may send: no lock needed.
        with self.engine.begin() as conn:
            conn.execute(update(_events).where(_events.c.id == event_id).values(at=self._now(conn)))


class LocalRateBudget(_BudgetBase):
    """A budget for this process only (no database configured): threads share it, processes
    do not. For scripts and unit tests; deployments use :class:`DatabaseRateBudget`.
    """

    def __init__(self, bucket: str, limit: int, window_seconds: float, **kwargs: object) -> None:
        super().__init__(bucket, limit, window_seconds, **kwargs)  # type: ignore[arg-type]
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self._drawn = threading.local()

    def try_acquire(self) -> float:
        with self._lock:
            now = self.clock()
            while self._times and self._times[0] <= now - self.effective_window:
                self._times.popleft()
            wait = window_wait(sorted(self._times), now, self.limit, self.effective_window)
            if wait == 0.0:
                self._times.append(now)
                self._drawn.at = now
            return wait

    def settle(self) -> None:
        drawn = getattr(self._drawn, "at", None)
        if drawn is None:
            return
        self._drawn.at = None
        with self._lock:
            try:
                self._times.remove(drawn)
            except ValueError:  # already out of the window
                return
            self._times.append(self.clock())


_engines: dict[str, Engine] = {}


_engines_lock = threading.Lock()


def shared_engine(url: str) -> Engine:
    """One engine per database URL per process, so that clients share a small pool."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            kwargs = {} if is_sqlite(url) else {"pool_size": 2, "max_overflow": 8}
            engine = make_engine(url, **kwargs)
            _engines[url] = engine
        return engine


def make_budget(
    database_url: str | None, bucket: str, limit: int, window_seconds: float, **kwargs: object
) -> DatabaseRateBudget | LocalRateBudget:
    """The shared budget for ``bucket``; a process-local one when no database is given."""
    if database_url:
        return DatabaseRateBudget(database_url, bucket, limit, window_seconds, **kwargs)
    return LocalRateBudget(bucket, limit, window_seconds, **kwargs)
