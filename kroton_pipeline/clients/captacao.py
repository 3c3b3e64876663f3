"""Client of Kroton's Captação API: e-mail/password login and the same CPF look-ups."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace

from kroton_pipeline.clients.kroton import (
    CpfLookupMethods,
    HealthResult,
    TokenCache,
    captacao_login,
)
from kroton_pipeline.clients.transport import (
    ClientCounters,
    KrotonError,
    LocalRateBudget,
    LogSink,
    RateBudget,
    RetryPolicy,
    build_transport,
    logger,
)
from kroton_pipeline.settings import KrotonApiFormat

SUBSCRIPTION_HEADER = "Ocp-Apim-Subscription-Key"
HEALTH_CHECK_CPF = "00000000191"


class CaptacaoClient(CpfLookupMethods):
    """Captação API: a long-lived login token (re-login once on 401) and the CPF look-ups.

    The look-ups use the same paths and formats as the main API (``api_format``).
    """

    system = "captacao"

    def __init__(
        self,
        *,
        base_url: str,
        email: str,
        password: str,
        subscription_key: str | None = None,
        api_format: KrotonApiFormat | None = None,
        budget: RateBudget | None = None,
        timeout_seconds: float | None = None,
        policy: RetryPolicy | None = None,
        token_margin_seconds: float = 300.0,
        log: LogSink | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        fmt = api_format or KrotonApiFormat()
        if timeout_seconds is not None:
            fmt = replace(fmt, lookup_timeout_seconds=timeout_seconds)
        self._format = fmt
        self.counters = ClientCounters(self.system)
        self.log: LogSink = log or logger
        self._headers = {SUBSCRIPTION_HEADER: subscription_key} if subscription_key else {}
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
            captacao_login(self._transport, email=email, password=password, headers=self._headers),
            margin_seconds=token_margin_seconds,
            clock=clock,
            log=self.log,
            name="captacao token",
        )
        self._auth = self._tokens

    def health(self) -> HealthResult:
        """Login works and a look-up answers (two requests of the Captação budget)."""
        try:
            self._tokens.clear()
            self._tokens.token()
            self.inscriptions_by_cpf(HEALTH_CHECK_CPF)
        except KrotonError as exc:
            return HealthResult(system=self.system, ok=False, detail=str(exc))
        return HealthResult(system=self.system, ok=True, detail="login works, look-up answered")

    def close(self) -> None:
        self._transport.http.close()

    def __enter__(self) -> CaptacaoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
