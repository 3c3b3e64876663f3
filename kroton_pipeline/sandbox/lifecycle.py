"""How an inscription evolves over sandbox time, computed lazily from the clock.

Nothing runs in the background: the processing status and the classification of an
inscription are functions of (seed, CPF, creation time, now), so the same seed and the
same clock always tell the same story.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DAY = 86_400.0

INSCRITO = "Inscrito"
INSCRITO_VG_ONLINE = "Inscrito VG Online"
CLASSIFICADO = "Classificado"
CONVOCADO = "Convocado"
ALUNO = "Aluno"
AUSENTE = "Ausente"
DESCLASSIFICADO = "Desclassificado"
DESCLASSIFICADO_POR_NOTA = "Desclassificado por nota"
DROPPED = (AUSENTE, DESCLASSIFICADO, DESCLASSIFICADO_POR_NOTA)
# Kroton's systems; the bundled catalog's offers are COLABORAR or OLIMPO, inscriptions made
# through other partners may be in any of them.
SYSTEMS = ("COLABORAR", "OLIMPO", "SAP", "ATHENAS")


@dataclass(frozen=True)
class Timing:
    """Timing constants and shares of the simulated processing (seconds of sandbox clock)."""

    processing_after: float = 60.0  # NEW -> PROCESSING
    settle_after: float = 180.0  # PROCESSING -> SUCCESS or ERROR
    immediate_success_share: float = 0.6  # answered SUCCESS at once
    error_share: float = 0.1  # of the asynchronous ones, end in ERROR
    classified_after: float = 2 * DAY  # Inscrito -> Classificado / Ausente / Desclassificado
    summoned_after: float = 5 * DAY  # Classificado -> Convocado
    student_after: float = 10 * DAY  # Convocado -> Aluno


# Share of each classification path (cumulative thresholds over a uniform draw).
_PATHS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.15, (INSCRITO,)),
    (0.20, (INSCRITO_VG_ONLINE,)),
    (0.30, (INSCRITO, AUSENTE)),
    (0.35, (INSCRITO, DESCLASSIFICADO)),
    (0.40, (INSCRITO, DESCLASSIFICADO_POR_NOTA)),
    (0.55, (INSCRITO, CLASSIFICADO)),
    (0.70, (INSCRITO, CLASSIFICADO, CONVOCADO)),
    (1.00, (INSCRITO, CLASSIFICADO, CONVOCADO, ALUNO)),
)


def fates() -> list[tuple[float, tuple[str, ...]]]:
    """(share, classification path) of a successful inscription, the shares summing to 1."""
    shares, previous = [], 0.0
    for limit, path in _PATHS:
        shares.append((limit - previous, path))
        previous = limit
    return shares


def path_offsets(timing: Timing) -> dict[str, float]:
    """Seconds after processing at which each classification is reached."""
    return {
        INSCRITO: 0.0,
        INSCRITO_VG_ONLINE: 0.0,
        CLASSIFICADO: timing.classified_after,
        AUSENTE: timing.classified_after,
        DESCLASSIFICADO: timing.classified_after,
        DESCLASSIFICADO_POR_NOTA: timing.classified_after,
        CONVOCADO: timing.summoned_after,
        ALUNO: timing.student_after,
    }


def draw(seed: int, cpf: str, salt: str) -> float:
    """Deterministic uniform number in [0, 1) for (seed, cpf, salt)."""
    digest = hashlib.sha256(f"{seed}:{cpf}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class Inscription:
    """One inscription held by the sandbox.

    ``fixed_classification`` is set for pre-seeded inscriptions, which are already
    processed (SUCCESS) and do not move on.
    """

    inscricao_id: str
    cpf: str  # digits only
    sistema: str
    curso: str
    unidade: str
    offer_ids: list[str]
    id_afiliado: str
    created_at: float
    origin: str = "registered"  # "registered", "preseeded" or "manual"
    nome: str | None = None  # the candidate's name, as registered
    fixed_classification: str | None = None
    enrolled: bool = False
    attempt: int = 0  # how many earlier inscriptions the CPF has; keeps draws per (seed, cpf)


def success_time(ins: Inscription, seed: int, timing: Timing) -> float | None:
    """When the inscription reached SUCCESS (None if it ends in ERROR)."""
    if ins.fixed_classification is not None:
        return ins.created_at
    if draw(seed, ins.cpf, f"immediate:{ins.attempt}") < timing.immediate_success_share:
        return ins.created_at
    if draw(seed, ins.cpf, f"error:{ins.attempt}") < timing.error_share:
        return None
    return ins.created_at + timing.settle_after


def answered_immediately(ins: Inscription, seed: int, timing: Timing) -> bool:
    """Whether the POST answer already says SUCCESS."""
    return success_time(ins, seed, timing) == ins.created_at


def status_at(ins: Inscription, now: float, seed: int, timing: Timing) -> str:
    """Processing status (NEW, PROCESSING, SUCCESS, ERROR) at sandbox time ``now``."""
    done = success_time(ins, seed, timing)
    if done is not None and now >= done:
        return "SUCCESS"
    elapsed = now - ins.created_at
    if elapsed < timing.processing_after:
        return "NEW"
    if elapsed < timing.settle_after:
        return "PROCESSING"
    return "ERROR"


def classification_history(ins: Inscription, seed: int, timing: Timing) -> list[tuple[float, str]]:
    """(time, classification) steps of a successful inscription, oldest first."""
    start = success_time(ins, seed, timing)
    if start is None:
        return []
    if ins.fixed_classification is not None:
        return [(start, ins.fixed_classification)]
    fate = draw(seed, ins.cpf, f"fate:{ins.attempt}")
    path = next(p for limit, p in _PATHS if fate < limit)
    offsets = path_offsets(timing)
    return [(start + offsets[name], name) for name in path]


def classification_at(ins: Inscription, now: float, seed: int, timing: Timing) -> str | None:
    """Classification at ``now``; None while not (or never) successfully processed."""
    if status_at(ins, now, seed, timing) != "SUCCESS":
        return None
    current = None
    for when, name in classification_history(ins, seed, timing):
        if when <= now:
            current = name
    return current


def enrolment_time(ins: Inscription, now: float, seed: int, timing: Timing) -> float | None:
    """When the candidate became a student (an ATIVA matricula), if they have by ``now``."""
    if ins.enrolled:
        return ins.created_at
    for when, name in classification_history(ins, seed, timing):
        if name == ALUNO and when <= now:
            return when
    return None


# An inscription older than this belongs to an earlier intake cycle: it blocks nothing.
CYCLE_SECONDS = 365 * DAY


def is_active(ins: Inscription, now: float, seed: int, timing: Timing) -> bool:
    """An inscription blocks a new one unless it failed, the candidate dropped out, or it
    belongs to an earlier intake cycle."""
    if now - ins.created_at > CYCLE_SECONDS:
        return False
    if status_at(ins, now, seed, timing) == "ERROR":
        return False
    return classification_at(ins, now, seed, timing) not in DROPPED
