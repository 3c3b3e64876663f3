"""Kroton's answers, read once into typed views, and what each view means for a lead.

Kroton has been seen speaking two dialects. The design document's: a CPF look-up answering
``{"inscricoes": [{id, inscricaoId, classificacao: {descricao}, status, sistema, ...}]}``
and a registration answering ``{success, inscricaoId, status, message, errors}``. And the
one production integrations read (``v5``): a top-level array of nested items
``{sistema, inscricao: {idOrigem, businessKey, dataInscricao, classificacao: {descricao}},
matricula: {id, ra}, processamento: {status}}``, ids as numbers or strings, and a
registration answer nobody relies on. Every answer of either dialect is turned here, once,
into frozen views; clients call the ``parse_*`` functions, steps and the recorder read
only views, and ``raw`` keeps each answer exactly as received (``follow_ups.source``).

The status an answer means is decided here too (:meth:`Inscription.status`): a student
record (``matricula.ra``) is ``enrolled``; processing NEW/PROCESSING is
``awaiting_register`` and ERROR ``failed``; once processed, the classification decides,
compared without regard to case, accents or spacing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from kroton_pipeline.domain.statuses import Status

S = Status

# Kroton's systems (``sistema``); Kroton sends them upper-case, compared upper-case.
KROTON_SYSTEMS: tuple[str, ...] = ("COLABORAR", "OLIMPO", "SAP", "ATHENAS")


class AnswerShapeError(ValueError):
    """An answer does not have a shape of either dialect; the message names fields only."""


def normalise_classification(text: str) -> str:
    """``"  DESCLASSIFICADO  por Nota"`` -> ``"desclassificado por nota"`` (no accents)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


# Kroton classification (inscricao.classificacao.descricao) -> internal status (the design
# document's table, plus "Desclassificado por nota" seen in production answers).
CLASSIFICATION_STATUS: dict[str, Status] = {
    "Aluno": S.ENROLLED,
    "Convocado": S.ENROLLED,
    "Classificado": S.REGISTERED,
    "Inscrito": S.REGISTERED,
    "Itinerante": S.REGISTERED,
    "Inscrito VG Online": S.REGISTERED,
    "Ausente": S.DROPPED,
    "Desclassificado": S.DROPPED,
    "Desclassificado por nota": S.DROPPED,
}
_BY_KEY = {normalise_classification(name): status for name, status in CLASSIFICATION_STATUS.items()}
# Longest first, so that "inscrito vg online ..." is not read as "inscrito ...".
_PREFIXES = sorted(_BY_KEY, key=len, reverse=True)

# Kroton's asynchronous processing state -> internal status.
PROCESSING_STATUS: dict[str, Status] = {
    "NEW": S.AWAITING_REGISTER,
    "PROCESSING": S.AWAITING_REGISTER,
    "SUCCESS": S.REGISTERED,
    "ERROR": S.FAILED,
}


def status_for_classification(classification: str | None) -> Status | None:
    """The status a classification means, or ``None`` when it is unknown.

    Case, accents and spacing do not matter; a known classification followed by more words
    (``"Desclassificado por nota - Novo"``) means what the known one means.
    """
    if not classification or not classification.strip():
        return None
    key = normalise_classification(classification)
    if key in _BY_KEY:
        return _BY_KEY[key]
    for prefix in _PREFIXES:
        if key.startswith(prefix + " "):
            return _BY_KEY[prefix]
    return None


def status_for_processing(state: str | None) -> Status | None:
    """The status an asynchronous processing state means, or ``None`` when unknown."""
    return PROCESSING_STATUS.get(state.strip().upper()) if state else None


@dataclass(frozen=True)
class Inscription:
    """What Kroton says about one inscription, in either dialect."""

    inscription_id: str | None = None
    business_key: str | None = None
    system: str | None = None
    dealer_id: str | None = None
    classification: str | None = None
    processing: str | None = None  # NEW, PROCESSING, SUCCESS, ERROR (upper-case) or unknown
    inscribed_at: datetime | None = None
    student_ra: str | None = None  # set: the person is a student (``matricula.ra``)
    says_enrolment: bool = False  # the item carries enrolment data (``matricula``)
    message: str | None = None
    intake_ends_on: date | None = None  # the first offer's inscription window, when given

    @property
    def status(self) -> Status | None:
        """The internal status this inscription means; ``None``: unknown (keep and warn)."""
        if self.student_ra:
            return S.ENROLLED
        processed = status_for_processing(self.processing)
        if processed in (S.AWAITING_REGISTER, S.FAILED):
            return processed
        if self.classification:
            return status_for_classification(self.classification)
        return processed

    @property
    def unknown_classification(self) -> bool:
        """A classification the table does not know (the status is kept, with a warning)."""
        return bool(self.classification) and status_for_classification(self.classification) is None


# The order in which a person's inscriptions describe them: the most advanced live one wins.
_PREFERENCE = {
    S.ENROLLED: 0,
    S.REGISTERED: 1,
    S.AWAITING_REGISTER: 2,
    S.DROPPED: 3,
    S.FAILED: 4,
}


@dataclass(frozen=True)
class InscriptionsAnswer:
    """A look-up's answer (by CPF or by inscription id): its inscriptions, and the answer as
    received (``raw``, stored as ``follow_ups.source``)."""

    inscriptions: tuple[Inscription, ...]
    raw: Any = field(default=None, compare=False)

    def best(self) -> Inscription | None:
        """The inscription that best describes the person, or ``None`` when there is none.

        The most advanced live one wins, so a lead with one failed and one live inscription
        is followed on the live one; an unknown classification ranks after the known live
        ones but before dropped and failed ones (such a lead is never registered again).
        """
        if not self.inscriptions:
            return None
        return min(
            self.inscriptions,
            key=lambda ins: _PREFERENCE.get(ins.status, 9) if ins.status else 2.5,
        )

    @property
    def says_enrolment(self) -> bool:
        """Whether the answer itself tells who is a student (v5 items carry ``matricula``)."""
        return any(ins.says_enrolment for ins in self.inscriptions)

    def followed(self, inscription_id: str | None) -> Inscription | None:
        """The inscription a lead follows: the one with its Kroton id when the answer has it
        (a person may hold older ones), else the best."""
        for ins in self.inscriptions:
            if inscription_id and ins.inscription_id == inscription_id:
                return ins
        return self.best()

    def made_since(self, moment: datetime) -> InscriptionsAnswer:
        """The inscriptions made at or after ``moment`` (naive UTC; undated ones count)."""
        return InscriptionsAnswer(
            tuple(
                ins
                for ins in self.inscriptions
                if ins.inscribed_at is None or ins.inscribed_at >= moment
            ),
            raw=self.raw,
        )


@dataclass(frozen=True)
class Enrolments:
    """The enrolment look-up's answer: the ids of active enrolments, and the raw answer."""

    active_ids: tuple[str, ...]
    raw: Any = field(default=None, compare=False)

    @property
    def student(self) -> bool:
        return bool(self.active_ids)


@dataclass(frozen=True)
class RegistrationAnswer:
    """Kroton's answer to a registration POST that came back 2xx.

    ``accepted`` is False only when the answer itself refuses (``success: false``).
    ``inscription`` holds whatever the answer tells (id, processing state — ERROR means the
    inscription failed): an answer that tells nothing is an accepted registration still to
    be seen.
    """

    accepted: bool
    inscription: Inscription
    message: str | None = None
    errors: tuple[str, ...] = ()
    raw: Any = field(default=None, compare=False)
    dry_run: bool = False  # nothing was sent: a dry run recorded the payload instead

    @property
    def status(self) -> Status:
        """Where an accepted lead goes now: what the answer says, else pending."""
        return self.inscription.status or S.AWAITING_REGISTER


# -- parsing -------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text or None
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _descricao(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return _text(value.get("descricao"))
    return _text(value)


def _when(value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # Naive UTC, like every timestamp the pipeline stores.
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _day(value: Any) -> date | None:
    moment = _when(value)
    return moment.date() if moment is not None else None


def _upper(value: Any) -> str | None:
    text = _text(value)
    return text.upper() if text else None


_RECOGNISED = (
    "inscricao",
    "processamento",
    "matricula",
    "inscricaoId",
    "id",
    "idOrigem",
    "classificacao",
    "status",
)


def parse_inscription(item: Any, where: str = "inscription") -> Inscription:
    """One inscription item, flat (design document) or nested (v5)."""
    if not isinstance(item, Mapping):
        raise AnswerShapeError(f"{where}: expected an object")
    if not any(key in item for key in _RECOGNISED):
        raise AnswerShapeError(f"{where}: none of the fields {', '.join(_RECOGNISED)}")
    nested = _mapping(item.get("inscricao"))
    enrolment = item.get("matricula")
    return Inscription(
        inscription_id=(
            _text(nested.get("idOrigem"))
            or _text(item.get("inscricaoId"))
            or _text(item.get("idOrigem"))
            or _text(item.get("id"))
            or _text(nested.get("id"))
        ),
        business_key=_text(nested.get("businessKey")) or _text(item.get("businessKey")),
        system=_upper(item.get("sistema")) or _upper(nested.get("sistema")),
        dealer_id=_text(item.get("idAfiliado")) or _text(nested.get("idAfiliado")),
        classification=_descricao(nested.get("classificacao"))
        or _descricao(item.get("classificacao")),
        processing=_upper(_mapping(item.get("processamento")).get("status"))
        or _upper(item.get("status")),
        inscribed_at=_when(nested.get("dataInscricao")) or _when(item.get("dataInscricao")),
        student_ra=_text(_mapping(enrolment).get("ra")),
        says_enrolment="matricula" in item,
        message=_text(item.get("message")),
        intake_ends_on=_day(
            _mapping(_mapping(nested.get("ofertas")).get("primeiraOpcao")).get("dtTerminoInscricao")
        ),
    )


def parse_inscriptions(body: Any) -> InscriptionsAnswer:
    """The CPF look-up's answer: an array (v5; ``[]`` = none) or ``{"inscricoes": [...]}``."""
    items = body.get("inscricoes") if isinstance(body, Mapping) else body
    if items is None and isinstance(body, Mapping) and not body:
        items = []
    if not isinstance(items, list):
        raise AnswerShapeError("CPF look-up: expected an array or an object with inscricoes")
    return InscriptionsAnswer(
        tuple(parse_inscription(item, f"CPF look-up item {n}") for n, item in enumerate(items)),
        raw=body,
    )


def parse_inscription_state(body: Any) -> InscriptionsAnswer:
    """One inscription's look-up by id: a single object (either dialect)."""
    return InscriptionsAnswer((parse_inscription(body, "inscription look-up"),), raw=body)


def parse_enrolments(body: Any) -> Enrolments:
    """The enrolment look-up's answer: ``{"matriculas": [...]}`` or an array of them.

    An enrolment counts as active when its ``situacao`` is ATIVA or it carries an ``ra``.
    """
    items = body.get("matriculas") if isinstance(body, Mapping) else body
    if items is None and isinstance(body, Mapping) and not body:
        items = []
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise AnswerShapeError("enrolment look-up: expected an array or an object with matriculas")
    active = tuple(
        _text(item.get("id")) or _text(item.get("ra")) or "?"
        for item in items
        if _upper(item.get("situacao")) == "ATIVA" or _text(item.get("ra"))
    )
    return Enrolments(active, raw=body)


def parse_registration(body: Any) -> RegistrationAnswer:
    """A 2xx answer to the registration POST, in either dialect (or empty).

    Nothing is required: production integrations rely on the HTTP status alone. Whatever
    the answer tells about the inscription (id, processing state) is kept.
    """
    if body is None or body == "" or (isinstance(body, Mapping) and not body):
        return RegistrationAnswer(True, Inscription(), raw=body)
    if not isinstance(body, Mapping):
        raise AnswerShapeError("registration answer: expected an object")
    inscription = (
        parse_inscription(body, "registration answer")
        if any(key in body for key in _RECOGNISED)
        else Inscription()
    )
    errors = body.get("errors")
    error_list = tuple(str(e) for e in errors) if isinstance(errors, list) else ()
    # A refusal is Kroton saying no to the request (register_failed); a processing ERROR
    # of an accepted request is the inscription failing (failed, the design document's
    # table).
    refused = body.get("success") is False
    return RegistrationAnswer(
        accepted=not refused,
        inscription=inscription,
        message=_text(body.get("message")) or _text(body.get("data")),
        errors=error_list,
        raw=body,
    )


# -- what the answers say about a person ------------------------------------------------------


def needs_enrolment_lookup(answer: InscriptionsAnswer) -> bool:
    """Whether the enrolment look-up could change the verdict on this person.

    Only when the answer carries no enrolment data (the design document's dialect) and every
    inscription Kroton holds has failed: the person may still be a student through another
    channel. Otherwise the inscription answer is enough and no request is spent.
    """
    best = answer.best()
    return not answer.says_enrolment and best is not None and best.status is S.FAILED


def person_status(
    answer: InscriptionsAnswer, enrolments: Enrolments | None = None
) -> Status | None:
    """The status Kroton's answers give a person: a student is ``enrolled``, otherwise what
    their best inscription says (``None``: no inscription, or an unknown classification)."""
    if enrolments is not None and enrolments.student:
        return S.ENROLLED
    best = answer.best()
    return best.status if best is not None else None
