"""Clients of Kroton's APIs: the main API (token, CPF look-ups, inscriptions) and the catalog.

Sections, in the order of the code:

**models**: Typed bodies of the token and login answers and of the catalog search.

Kroton's inscription and registration answers, which come in two dialects, are read in
:mod:`kroton_pipeline.domain.kroton_api`. Field names here follow Python; aliases are
the wire's camelCase names; unknown fields are kept (``extra="allow"``).

**auth**: Token caches for Kroton's OAuth2 client credentials and Captação's e-mail/password login.

A token is reused until shortly before it expires (by this process's clock); when the API
still refuses it (401: revoked, or the server's clock ran ahead), the transport calls
:meth:`TokenCache.invalidate` and the next request fetches a new one, once.

**lookups**: The three CPF look-ups shared by Kroton's main API and the Captação API.

The Captação API serves the same look-ups under its own base URL and token, so a deployment
can route look-ups through it (``KrotonResource.lookups_via_captacao``). Paths, the CPF's
form in the URL and what a 404 means come from :class:`~kroton_pipeline.settings.KrotonApiFormat`;
every answer is read once into the views of :mod:`kroton_pipeline.domain.kroton_api`.

**kroton_api**: What the pipeline's steps need from Kroton, as a typed interface.

:class:`~kroton_pipeline.clients.kroton.KrotonClient` implements it over HTTP (its look-ups
optionally through the Captação API); tests and tools may pass anything with the same
methods. Every method returns a view of :mod:`kroton_pipeline.domain.kroton_api`, never
a raw answer, and raises a :class:`~kroton_pipeline.clients.transport.KrotonError` on failure.

**catalog**: Client of the catalog middleware (Elasticsearch-shaped offer search).

**kroton**: Client of Kroton's main API: OAuth2 token, CPF look-ups, inscription status,
registration.

Paths, the CPF's form in URLs, the token request and the timeouts come from
:class:`~kroton_pipeline.settings.KrotonApiFormat` (the design document's dialect or the one
production integrations speak); answers are read once into the views of
:mod:`kroton_pipeline.domain.kroton_api`.
"""

from __future__ import annotations

import copy
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kroton_pipeline.clients.transport import (
    Authenticator,
    ClientCounters,
    KrotonError,
    KrotonRejected,
    LocalRateBudget,
    LogSink,
    MalformedResponse,
    NotFound,
    OutcomeUnknown,
    RateBudget,
    RetryPolicy,
    Transport,
    build_transport,
    logger,
)
from kroton_pipeline.domain.kroton_api import (
    AnswerShapeError,
    Enrolments,
    Inscription,
    InscriptionsAnswer,
    RegistrationAnswer,
    parse_enrolments,
    parse_inscription_state,
    parse_inscriptions,
    parse_registration,
)
from kroton_pipeline.domain.leads import format_cpf, mask_cpf
from kroton_pipeline.settings import KrotonApiFormat

M = TypeVar("M", bound=BaseModel)


class KrotonModel(BaseModel):
    """Base: camelCase aliases, unknown fields kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def source(self) -> dict[str, Any]:
        """The answer as Kroton sent it (aliases and extra fields), JSON-ready."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class TokenResponse(KrotonModel):
    """``POST /oauth2/token`` answer."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: float = 3600


class CaptacaoLoginResponse(KrotonModel):
    """``POST /auth/login`` answer of the Captação API (a long-lived token)."""

    token: str
    expires_in: float = Field(86400, alias="expiresIn")


class CatalogSearchRequest(BaseModel):
    """Body of ``POST /elasticlayer/middleware/oferta/_search``."""

    query: dict[str, Any]
    size: int = 10


class CatalogHit(KrotonModel):
    """One offer found; ``source`` is the catalog document, kept whole."""

    id: str | None = Field(None, alias="_id")
    score: float | None = Field(None, alias="_score")
    source_document: dict[str, Any] = Field(default_factory=dict, alias="_source")


class CatalogTotal(KrotonModel):
    value: int = 0
    relation: str = "eq"


class CatalogHits(KrotonModel):
    total: CatalogTotal = Field(default_factory=CatalogTotal)
    hits: list[CatalogHit] = Field(default_factory=list)


class CatalogSearchResult(KrotonModel):
    """The catalog's Elasticsearch-shaped answer."""

    took: int | None = None
    timed_out: bool = False
    hits: CatalogHits = Field(default_factory=CatalogHits)

    @property
    def total(self) -> int:
        return self.hits.total.value

    @property
    def offers(self) -> list[dict[str, Any]]:
        """The ``_source`` documents of the hits, best first."""
        return [hit.source_document for hit in self.hits.hits]


class HealthResult(BaseModel):
    """Outcome of a client's self-check; ``detail`` never holds a credential or personal data."""

    system: str
    ok: bool
    detail: str


def parse_answer(model: type[M], body: Any, endpoint: str) -> M:
    """Validate a decoded answer; :class:`MalformedResponse` (no values quoted) if it fails."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise MalformedResponse(
            f"{endpoint}: answer does not have the documented shape (fields: {', '.join(fields)})",
            endpoint=endpoint,
        ) from None


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


V = TypeVar("V")


class InvalidCpf(ValueError):
    """A CPF that does not have 11 digits (the message does not repeat the value)."""


def normalise_cpf(cpf: str) -> str:
    """11 digits, or :class:`InvalidCpf`."""
    digits = re.sub(r"\D", "", str(cpf))
    if len(digits) != 11:
        raise InvalidCpf("a CPF must have 11 digits")
    return digits


def read_answer(parse: Callable[[Any], V], body: Any, endpoint: str) -> V:
    """Read an answer into its view; :class:`MalformedResponse` (fields named, no values)."""
    try:
        return parse(body)
    except AnswerShapeError as exc:
        raise MalformedResponse(
            f"{endpoint}: answer does not have a known shape ({exc})", endpoint=endpoint
        ) from None


class CpfLookupMethods:
    """The look-ups, over ``self._transport``, ``self._auth``, ``self._format``."""

    _transport: Transport
    _auth: Authenticator
    _format: KrotonApiFormat
    _headers: dict[str, str]

    def inscriptions_by_cpf(self, cpf: str) -> InscriptionsAnswer:
        """Every inscription Kroton holds for ``cpf`` (none: an empty answer)."""
        path = self._format.inscriptions_by_cpf_path
        return self._by_cpf("inscricoes_by_cpf", path, cpf, parse_inscriptions)

    def enrolments_by_cpf(self, cpf: str) -> Enrolments:
        """Every enrolment (matrícula) Kroton holds for ``cpf``."""
        path = self._format.enrolments_by_cpf_path
        return self._by_cpf("matriculas_by_cpf", path, cpf, parse_enrolments)

    def _by_cpf(self, endpoint: str, template: str, cpf: str, parse: Callable[[Any], V]) -> V:
        """A look-up by CPF, masked in logs; a 404 is "none found" where the format says so."""
        digits = normalise_cpf(cpf)
        body = self._get(
            endpoint,
            template,
            mask_cpf(digits),
            none_on_404=self._format.lookup_404_is_empty,
            cpf=self._cpf_in_url(digits),
        )
        return read_answer(parse, [] if body is None else body, self._name(endpoint))

    def inscription_status(self, inscricao_id: str, sistema: str | None) -> InscriptionsAnswer:
        """Processing state and classification of one inscription; ``NotFound`` if unknown."""
        body = self._get(
            "inscricao_status",
            self._format.inscription_status_path,
            f"inscricao {inscricao_id}",
            inscricao=str(inscricao_id),
            sistema=sistema or "",
        )
        return read_answer(parse_inscription_state, body, self._name("inscricao_status"))

    def _cpf_in_url(self, digits: str) -> str:
        return format_cpf(digits) if self._format.cpf_in_url == "punctuated" else digits

    def _name(self, endpoint: str) -> str:
        return f"{self._transport.system}.{endpoint}"

    def _get(
        self, endpoint: str, template: str, subject: str, none_on_404: bool = False, **params: str
    ) -> Any:
        path = template.format(**{k: quote(v, safe="") for k, v in params.items()})
        try:
            return self._transport.call(
                endpoint,
                "GET",
                path,
                auth=self._auth,
                headers=self._headers,
                subject=subject,
                timeout=self._format.lookup_timeout_seconds,
            )
        except NotFound:
            if none_on_404:
                return None
            raise


class CpfLookups(Protocol):
    """The look-ups by CPF and by inscription id, whichever API answers them."""

    def inscriptions_by_cpf(self, cpf: str) -> InscriptionsAnswer: ...

    def enrolments_by_cpf(self, cpf: str) -> Enrolments: ...

    def inscription_status(self, inscricao_id: str, sistema: str | None) -> InscriptionsAnswer: ...


class KrotonApi(CpfLookups, Protocol):
    """The look-ups plus the registration POST, and the run's counters."""

    counters: ClientCounters

    def register(
        self, payload: Mapping[str, Any], before_send: Callable[[], None] | None = None
    ) -> RegistrationAnswer: ...


AuthScheme = Literal["apiKey", "Bearer", "none"]


# The design document's middleware endpoint.
CATALOG_SEARCH_PATH = "/elasticlayer/middleware/oferta/_search"


class CatalogClient:
    """Offer search with ``Authorization: apiKey <key>`` (staging: ``Bearer <key>``; ``none``:
    no Authorization header, where the middleware wants none).

    A search is a POST but reads only, so it is retried like a GET.
    """

    system = "catalog"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        auth_scheme: AuthScheme = "apiKey",
        budget: RateBudget | None = None,
        timeout_seconds: float = 30.0,
        policy: RetryPolicy | None = None,
        log: LogSink | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if auth_scheme not in ("apiKey", "Bearer", "none"):
            raise ValueError("auth_scheme must be apiKey, Bearer or none")
        self.counters = ClientCounters(self.system)
        self.log: LogSink = log or logger
        self._transport = build_transport(
            system=self.system,
            base_url=base_url,
            headers={} if auth_scheme == "none" else {"Authorization": f"{auth_scheme} {api_key}"},
            timeout_seconds=timeout_seconds,
            budget=budget or LocalRateBudget(self.system, 100, 300.0),
            policy=policy,
            counters=self.counters,
            log=self.log,
            sleep=sleep,
            rng=rng,
        )

    def search(self, query: Mapping[str, Any], size: int | None = None) -> CatalogSearchResult:
        """Run a search. ``query`` is either a whole body (``{"query": ..., "size": ...}``, as
        ``domain.kroton_api.build_course_query`` makes) or just the query clause.
        """
        if "query" in query:
            body = dict(query)
            if size is not None:
                body["size"] = size
        else:
            body = {"query": dict(query), "size": 10 if size is None else size}
        request = CatalogSearchRequest.model_validate(body)
        answer = self._transport.call(
            "catalog_search",
            "POST",
            CATALOG_SEARCH_PATH,
            json=request.model_dump(),
            idempotent=True,
        )
        return parse_answer(CatalogSearchResult, answer, "catalog.catalog_search")

    def health(self) -> HealthResult:
        """The key is accepted and the search answers (one ``size: 0`` search)."""
        try:
            result = self.search({"bool": {"must": [{"match": {"ativa": True}}]}}, size=0)
        except KrotonError as exc:
            return HealthResult(system=self.system, ok=False, detail=str(exc))
        return HealthResult(
            system=self.system, ok=True, detail=f"search answered ({result.total} active offers)"
        )

    def close(self) -> None:
        self._transport.http.close()

    def __enter__(self) -> CatalogClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


SUBSCRIPTION_HEADER = "Ocp-Apim-Subscription-Key"


# A synthetic CPF with valid check digits (000.000.001-91) that belongs to no lead.
HEALTH_CHECK_CPF = "00000000191"


class KrotonClient(CpfLookupMethods):
    """Kroton's API for one run: one HTTP connection pool, one cached token, one set of counters.

    Every request draws from ``budget`` and carries the subscription-key header (the token
    request only when ``api_format.token_subscription_header``). With ``dry_run`` set,
    :meth:`register` sends nothing and records the payload in :attr:`dry_run_payloads`.
    With ``lookups`` given (a :class:`CaptacaoClient`), the three look-ups go through it.
    """

    system = "kroton"

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        subscription_key: str,
        api_format: KrotonApiFormat | None = None,
        budget: RateBudget | None = None,
        timeout_seconds: float | None = None,
        policy: RetryPolicy | None = None,
        dry_run: bool = False,
        token_margin_seconds: float = 30.0,
        lookups: CpfLookups | None = None,
        log: LogSink | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        fmt = api_format or KrotonApiFormat()
        if timeout_seconds is not None:  # one timeout for every call (tests, tools)
            fmt = replace(
                fmt,
                token_timeout_seconds=timeout_seconds,
                lookup_timeout_seconds=timeout_seconds,
                register_timeout_seconds=timeout_seconds,
            )
        self._format = fmt
        self.counters = ClientCounters(self.system)
        self.log: LogSink = log or logger
        self.dry_run = dry_run
        self.dry_run_payloads: list[dict[str, Any]] = []
        self._lookups = lookups
        self._headers = {SUBSCRIPTION_HEADER: subscription_key}
        self._transport = build_transport(
            system=self.system,
            base_url=base_url,
            headers={},
            timeout_seconds=fmt.lookup_timeout_seconds,
            budget=budget or LocalRateBudget(self.system, 100, 300.0),
            policy=policy,
            counters=self.counters,
            log=self.log,
            sleep=sleep,
            rng=rng,
        )
        self._tokens = TokenCache(
            oauth_client_credentials(
                self._transport,
                client_id=client_id,
                client_secret=client_secret,
                scope=subscription_key if fmt.token_scope else None,
                path=fmt.token_path,
                headers=self._headers if fmt.token_subscription_header else None,
                timeout=fmt.token_timeout_seconds,
            ),
            margin_seconds=token_margin_seconds,
            clock=clock,
            log=self.log,
            name="kroton token",
        )
        self._auth = self._tokens

    @property
    def api_format(self) -> KrotonApiFormat:
        return self._format

    # Look-ups: through Captação when configured, else this API.
    def inscriptions_by_cpf(self, cpf: str) -> InscriptionsAnswer:
        if self._lookups is not None:
            return self._lookups.inscriptions_by_cpf(cpf)
        return super().inscriptions_by_cpf(cpf)

    def enrolments_by_cpf(self, cpf: str) -> Enrolments:
        if self._lookups is not None:
            return self._lookups.enrolments_by_cpf(cpf)
        return super().enrolments_by_cpf(cpf)

    def inscription_status(self, inscricao_id: str, sistema: str | None) -> InscriptionsAnswer:
        if self._lookups is not None:
            return self._lookups.inscription_status(inscricao_id, sistema)
        return super().inscription_status(inscricao_id, sistema)

    def register(
        self, payload: Mapping[str, Any], before_send: Callable[[], None] | None = None
    ) -> RegistrationAnswer:
        """POST one enrolment payload; never re-sent by the client.

        Returns Kroton's answer read into a :class:`RegistrationAnswer` (any 2xx is an
        accepted registration unless the answer itself refuses it). Raises
        :class:`KrotonRejected` for a refusal (422 invalid data, 409 CPF already inscribed),
        :class:`OutcomeUnknown` when the POST may have been processed without a readable
        answer (reconcile with :meth:`inscriptions_by_cpf`). ``before_send`` runs just before
        the POST leaves (after any wait for the budget): the caller's last chance to check it
        may still send, by raising. Under dry run nothing is sent: the answer has ``dry_run``.
        """
        body = copy.deepcopy(dict(payload))
        personal = body.get("dadosPessoais") or {}
        subject = mask_cpf(personal.get("cpf") if isinstance(personal, dict) else None)
        if self.dry_run:
            self.dry_run_payloads.append(copy.deepcopy(body))
            self.counters.add("dry_run_payloads")
            self.log.debug(f"kroton.register [{subject}]: dry run, payload recorded, not sent")
            return RegistrationAnswer(True, Inscription(), dry_run=True)
        answer_body = self._transport.call(
            "register",
            "POST",
            self._format.register_path,
            auth=self._auth,
            json=body,
            headers=self._headers,
            idempotent=False,
            subject=subject,
            timeout=self._format.register_timeout_seconds,
            before_send=before_send,
        )
        try:
            answer = read_answer(parse_registration, answer_body, "kroton.register")
        except MalformedResponse:
            # Kroton accepted the request (2xx) but its answer is unusable: we do not know
            # what became of it, so this is an unknown outcome, not a failure to retry.
            self.counters.add("unknown_outcomes")
            message = f"kroton.register [{subject}]: answer unreadable, outcome unknown"
            self.log.error(message)
            raise OutcomeUnknown(message, endpoint="kroton.register", kind="malformed") from None
        if not answer.accepted:
            raise KrotonRejected(
                endpoint=f"kroton.register [{subject}]",
                status_code=200,
                kroton_message=answer.message or answer.inscription.message,
                errors=list(answer.errors),
                body=answer_body,
            )
        # One line per lead: DEBUG, so thousands a day do not flood the run log.
        self.log.debug(
            f"kroton.register [{subject}]: accepted, status {answer.inscription.processing}"
        )
        return answer

    def health(self) -> HealthResult:
        """Token obtainable and look-up endpoint reachable.

        Costs two requests of the Kroton budget: a fresh token and a look-up of a synthetic
        CPF (``HEALTH_CHECK_CPF``) on the main API.
        """
        try:
            self._tokens.clear()
            self._tokens.token()
            CpfLookupMethods.inscriptions_by_cpf(self, HEALTH_CHECK_CPF)
        except KrotonError as exc:
            return HealthResult(system=self.system, ok=False, detail=str(exc))
        return HealthResult(system=self.system, ok=True, detail="token obtained, look-up answered")

    def close(self) -> None:
        self._transport.http.close()

    def __enter__(self) -> KrotonClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
