"""In-memory state of the simulated Kroton: tokens, inscriptions and enrolments.

Deterministic for a seed: which CPFs are already known to Kroton (``preseeded_kind``), how
each registration is processed and how its classification evolves (see ``lifecycle``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kroton_pipeline.sandbox import lifecycle as lc
from kroton_pipeline.sandbox.catalog import Catalog
from kroton_pipeline.sandbox.clock import SandboxClock, iso_timestamp
from kroton_pipeline.sandbox.tokens import TokenStore
from kroton_pipeline.sandbox.validation import cpf_digits, field, validate_registration

INSCRIBED_SHARE = 0.03
ENROLLED_SHARE = 0.01
PRESEED_AFFILIATE = "DL00OUTRO00001"  # another partner's affiliate id


@dataclass(frozen=True)
class RegistrationOutcome:
    """What became of a registration POST: "invalid" (``errors``), "conflict" (``existing``
    holds an active inscription) or "created" (``inscription``, answered at once or not)."""

    kind: str
    errors: tuple[str, ...] = ()
    inscription: lc.Inscription | None = None
    immediate: bool = False


def preseeded_kind(seed: int, cpf: str) -> str | None:
    """Whether Kroton already knows this CPF for ``seed``: "inscribed", "enrolled" or None.

    About 3% of CPFs are already inscribed and 1% already enrolled, by a hash of
    (seed, CPF digits), so tests and the pipeline can predict which leads will collide.
    """
    value = lc.draw(seed, cpf_digits(cpf), "preseeded")
    if value < INSCRIBED_SHARE:
        return "inscribed"
    if value < INSCRIBED_SHARE + ENROLLED_SHARE:
        return "enrolled"
    return None


class SandboxState:
    """Everything the simulated Kroton remembers; safe to use from several threads."""

    def __init__(
        self, seed: int, catalog: Catalog, clock: SandboxClock, timing: lc.Timing | None = None
    ) -> None:
        self.seed = seed
        self.catalog = catalog
        self.clock = clock
        self.timing = timing or lc.Timing()
        self.tokens = TokenStore()
        self._by_id: dict[str, lc.Inscription] = {}
        self._by_cpf: dict[str, list[lc.Inscription]] = {}
        self._preseed_checked: set[str] = set()
        self._counter = 0
        self._lock = threading.RLock()

    # -- storage -------------------------------------------------------------------------
    def _store(self, ins: lc.Inscription) -> lc.Inscription:
        self._by_id[ins.inscricao_id] = ins
        self._by_cpf.setdefault(ins.cpf, []).append(ins)
        return ins

    def _offer_for(self, cpf: str) -> dict[str, Any]:
        today = self.clock.today()
        offers = [o for o in self.catalog.offers if self.catalog.is_open(o, today)]
        return offers[int(lc.draw(self.seed, cpf, "offer") * len(offers))]

    def _ensure_preseeded(self, cpf: str) -> None:
        """Materialise the pre-existing inscription of a pre-seeded CPF on first contact."""
        if cpf in self._preseed_checked:
            return
        self._preseed_checked.add(cpf)
        kind = preseeded_kind(self.seed, cpf)
        if kind is None:
            return
        if kind == "enrolled":
            classification = lc.ALUNO
        else:
            pick = lc.draw(self.seed, cpf, "preseeded-class") < 0.5
            classification = lc.INSCRITO if pick else lc.CLASSIFICADO
        age_days = 10 + int(lc.draw(self.seed, cpf, "age") * 50)
        number = 10_000_000 + int(lc.draw(self.seed, cpf, "id") * 9_000_000)
        while str(number) in self._by_id:
            number += 1
        ins = self._new(
            cpf,
            self._offer_for(cpf),
            None,
            PRESEED_AFFILIATE,
            self.clock.now() - age_days * lc.DAY,
            "preseeded",
            classification,
            kind == "enrolled",
            str(number),
        )
        # Made through another partner: in any of Kroton's systems.
        ins.sistema = lc.SYSTEMS[int(lc.draw(self.seed, cpf, "system") * len(lc.SYSTEMS))]
        self._store(ins)

    def _new(
        self,
        cpf: str,
        offer: Mapping[str, Any],
        second: Mapping[str, Any] | None,
        affiliate: str,
        created_at: float,
        origin: str,
        classification: str | None,
        enrolled: bool,
        inscricao_id: str | None = None,
    ) -> lc.Inscription:
        if inscricao_id is None:
            self._counter += 1
            inscricao_id = str(20_000_000 + self._counter)
        return lc.Inscription(
            inscricao_id=inscricao_id,
            cpf=cpf,
            sistema=offer["sistema"],
            curso=offer["dsCurso"],
            unidade=offer["nmUnidade"],
            offer_ids=[offer["id"]] + ([second["id"]] if second else []),
            id_afiliado=affiliate,
            created_at=created_at,
            origin=origin,
            fixed_classification=classification,
            enrolled=enrolled,
            attempt=len(self._by_cpf.get(cpf, [])),
        )

    def of_cpf(self, cpf: str) -> list[lc.Inscription]:
        """Every inscription of a CPF (digits or punctuated), oldest first."""
        digits = cpf_digits(cpf)
        with self._lock:
            self._ensure_preseeded(digits)
            return list(self._by_cpf.get(digits, []))

    def find(self, inscricao_id: str) -> lc.Inscription | None:
        """The inscription with this id, if any."""
        with self._lock:
            return self._by_id.get(inscricao_id)

    # -- writes --------------------------------------------------------------------------
    def register(self, payload: Any) -> RegistrationOutcome:
        """Handle a registration POST (the dialect's wire shape is ``wire``'s business)."""
        errors = validate_registration(payload, self.catalog, self.clock.today())
        if errors:
            return RegistrationOutcome("invalid", tuple(errors))
        cpf = cpf_digits(field(payload, "dadosPessoais.cpf"))
        now = self.clock.now()
        with self._lock:
            self._ensure_preseeded(cpf)
            for existing in self._by_cpf.get(cpf, []):
                if lc.is_active(existing, now, self.seed, self.timing):
                    return RegistrationOutcome("conflict", inscription=existing)
            offers = field(payload, "inscricao.ofertas")
            first = self.catalog.by_id[offers["primeiraOpcao"]["id"]]
            second_id = field(offers, "segundaOpcao.id")
            second = self.catalog.by_id.get(second_id) if second_id else None
            ins = self._new(
                cpf,
                first,
                second,
                payload["inscricao"]["idAfiliado"],
                now,
                "registered",
                None,
                False,
            )
            ins.nome = field(payload, "dadosPessoais.nome")
            self._store(ins)
        immediate = lc.answered_immediately(ins, self.seed, self.timing)
        return RegistrationOutcome("created", inscription=ins, immediate=immediate)

    def preseed(
        self,
        cpf: str,
        classificacao: str | None = None,
        enrolled: bool = False,
        age_days: float = 0.0,
    ) -> lc.Inscription:
        """Give a CPF an existing, already processed inscription (and enrolment), made
        ``age_days`` ago."""
        digits = cpf_digits(cpf)
        if len(digits) != 11:
            raise ValueError("cpf must have 11 digits")
        classification = classificacao or (lc.ALUNO if enrolled else lc.INSCRITO)
        with self._lock:
            self._ensure_preseeded(digits)
            ins = self._new(
                digits,
                self._offer_for(digits),
                None,
                PRESEED_AFFILIATE,
                self.clock.now() - age_days * lc.DAY,
                "manual",
                classification,
                enrolled,
            )
            return self._store(ins)

    # -- views ---------------------------------------------------------------------------
    def status_of(self, ins: lc.Inscription) -> str:
        """Processing status now."""
        return lc.status_at(ins, self.clock.now(), self.seed, self.timing)

    def classification_of(self, ins: lc.Inscription) -> str | None:
        """Classification now (None until processed successfully)."""
        return lc.classification_at(ins, self.clock.now(), self.seed, self.timing)

    def enrolment_time_of(self, ins: lc.Inscription) -> float | None:
        """When the candidate became a student, if they have by now."""
        return lc.enrolment_time(ins, self.clock.now(), self.seed, self.timing)

    def matriculas_view(self, cpf: str) -> dict[str, Any]:
        """Answer of the enrolments-by-CPF look-up: an ATIVA matricula per student."""
        now = self.clock.now()
        items = []
        for ins in self.of_cpf(cpf):
            when = lc.enrolment_time(ins, now, self.seed, self.timing)
            if when is not None:
                items.append(
                    {
                        "id": f"M{ins.inscricao_id}",
                        "curso": ins.curso,
                        "unidade": ins.unidade,
                        "situacao": "ATIVA",
                        "sistema": ins.sistema,
                        "dataMatricula": iso_timestamp(when),
                    }
                )
        return {"matriculas": items}

    def snapshot(self) -> list[dict[str, Any]]:
        """Every inscription held, for the control API and tests."""
        now = self.clock.now()
        with self._lock:
            held = list(self._by_id.values())
        return [
            {
                "cpf": ins.cpf,
                "inscricaoId": ins.inscricao_id,
                "status": self.status_of(ins),
                "classificacao": self.classification_of(ins),
                "sistema": ins.sistema,
                "ofertas": list(ins.offer_ids),
                "created_at": ins.created_at,
                "origin": ins.origin,
                "enrolled": lc.enrolment_time(ins, now, self.seed, self.timing) is not None,
            }
            for ins in held
        ]
