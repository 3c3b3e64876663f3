"""Client of Kroton's main API: OAuth2 token, CPF look-ups, inscription status, registration.

Paths, the CPF's form in URLs, the token request and the timeouts come from
:class:`~kroton_pipeline.settings.KrotonApiFormat` (the design document's dialect or the one
production integrations speak); answers are read once into the views of
:mod:`kroton_pipeline.domain.kroton_answers`.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from kroton_pipeline.clients.auth import TokenCache, oauth_client_credentials
from kroton_pipeline.clients.counters import ClientCounters
from kroton_pipeline.clients.errors import (
    KrotonError,
    KrotonRejected,
    MalformedResponse,
    OutcomeUnknown,
)
from kroton_pipeline.clients.kroton_api import CpfLookups
from kroton_pipeline.clients.lookups import CpfLookupMethods, read_answer
from kroton_pipeline.clients.models import HealthResult
from kroton_pipeline.clients.rate_limit import LocalRateBudget, RateBudget
from kroton_pipeline.clients.redaction import mask_cpf
from kroton_pipeline.clients.transport import LogSink, RetryPolicy, build_transport, logger
from kroton_pipeline.domain.kroton_answers import (
    Enrolments,
    Inscription,
    InscriptionsAnswer,
    RegistrationAnswer,
    parse_registration,
)
from kroton_pipeline.settings import KrotonApiFormat

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
