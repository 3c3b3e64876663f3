"""Kroton's API in the pipeline's terms, no I/O: what is sent, what its answers mean, how long a
lead is followed.

Sections, in the order of the code:

**kroton_answers**: Kroton's answers, read once into typed views, and what each view means for a
lead.

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

**precheck**: The check before registering: follow what Kroton already holds, or register anew.

The design document's checker stops a registration only for someone already enrolled. The
export is, by definition, people who did not convert, and many of them hold an inscription
from an earlier cycle (absent at the exam, disqualified, failed in processing, or simply
old). The rule:

- a student (an active enrolment, ``matricula.ra``, or an enrolled classification) is
  followed, never registered;
- an active inscription of the current intake — live (registered, pending, or a
  classification the table does not know) and made within ``stale_after_days`` — is
  followed;
- anything else (no inscription; only dropped, failed or stale ones) is registered anew.

Each decision says why, in words an operator can read in ``status_history``.

**tracking**: How long, and how often, a registered lead is followed.

A registered lead is followed until its story ends: a final status (enrolled, dropped,
failed), or its intake is over — the end of the chosen offer's inscription window
(``dtTerminoInscricao``) plus a grace for enrolment, or a horizon after registration when no
date is known. Then tracking ends, visibly (``tracking_ended`` in ``status_history``).

How often it is looked at follows what Kroton says: every few days while the lead is
*Classificado* in its first month (a call-up — *Convocado*, which counts as enrolled — may
come any day), and otherwise looks that thin out with age — every 3 days in the first 10
days, weekly until day 30, then every ``max_interval_days`` — never further apart than
that. Enrolment seasons last months; a lead that becomes *Convocado* or *Aluno* in month
four is still seen within two weeks.

**enrolment_payload**: The body of Kroton's registration POST (the design document's
EnrollmentPayload, plus
the fields production integrations send when ``BusinessRules.payload_extras`` is on).

The builder re-checks what Kroton would refuse (a 422 costs a request of the rate budget and
ends the lead as ``register_failed``), and raises :class:`PayloadError` naming the field,
never its value.

**catalog_query**: The catalog search for a lead's desired course (source document, "Consulta de
Cursos").

Leads that want the same course at the same unit, type, price, modality and capture period
share one :class:`CourseSearch`; the pipeline sends each distinct search once per run.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from kroton_pipeline.domain.leads import format_cpf, is_valid_cpf
from kroton_pipeline.domain.statuses import Status, StatusReason, reason
from kroton_pipeline.settings import BusinessRules

S = Status


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


LIVE = (S.REGISTERED, S.AWAITING_REGISTER)


@dataclass(frozen=True)
class PrecheckRules:
    """``KROTON_PRECHECK_STALE_DAYS``: an inscription older than this belongs to an earlier
    intake cycle (production integrations use about twelve months)."""

    stale_after_days: int = 365


def precheck_rules(rules: BusinessRules) -> PrecheckRules:
    return PrecheckRules(stale_after_days=rules.precheck_stale_days)


@dataclass(frozen=True)
class Precheck:
    """The decision for one lead: follow ``inscription`` (at ``status``) or register."""

    follow: bool
    why: str
    inscription: Inscription | None = None
    status: Status | None = None


def _is_stale(ins: Inscription, today: date, rules: PrecheckRules) -> bool:
    when = ins.inscribed_at
    if when is None:
        return False  # no date: assume the current intake (following is the safe side)
    day = when.date() if isinstance(when, datetime) else when
    return day < today - timedelta(days=rules.stale_after_days)


def _ignored(inscriptions: tuple[Inscription, ...], today: date, rules: PrecheckRules) -> str:
    kinds: Counter[str] = Counter()
    for ins in inscriptions:
        if ins.status is S.DROPPED:
            kinds["dropped"] += 1
        elif ins.status is S.FAILED:
            kinds["failed"] += 1
        elif _is_stale(ins, today, rules):
            kinds["stale"] += 1
    return ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))


def precheck(
    answer: InscriptionsAnswer,
    enrolments: Enrolments | None,
    today: date,
    rules: PrecheckRules,
) -> Precheck:
    """Follow or register, for what Kroton's look-ups said about a person."""
    students = [ins for ins in answer.inscriptions if ins.status is S.ENROLLED]
    if students or (enrolments is not None and enrolments.student):
        inscription = students[0] if students else answer.best()
        return Precheck(True, "student at Kroton", inscription, S.ENROLLED)
    current = [
        ins
        for ins in answer.inscriptions
        if (ins.status in LIVE or ins.unknown_classification) and not _is_stale(ins, today, rules)
    ]
    if current:
        best = InscriptionsAnswer(tuple(current)).best()
        assert best is not None
        return Precheck(True, "active inscription of the current intake", best, best.status)
    ignored = _ignored(answer.inscriptions, today, rules)
    return Precheck(False, f"earlier inscriptions ignored: {ignored}" if ignored else "")


def needs_enrolment_check(answer: InscriptionsAnswer, today: date, rules: PrecheckRules) -> bool:
    """Whether the enrolment look-up could change the decision: the answer carries no
    enrolment data (the design document's dialect), Kroton knows the person, and nothing in
    the answer is followed already. A person Kroton does not know at all costs no request."""
    if answer.says_enrolment or not answer.inscriptions:
        return False
    return not precheck(answer, None, today, rules).follow


@dataclass(frozen=True)
class TrackingRules:
    """The tracking settings (``KROTON_TRACKING_*``)."""

    grace_days: int = 60  # after the inscription window closes, for enrolment
    horizon_days: int = 365  # when no inscription window is known
    max_interval_days: int = 14  # the longest wait between two looks at a tracked lead
    classified_interval_days: int = 3  # Classificado: a call-up may come any day


# (age in days below which, days between looks); past the last bound: max_interval_days.
DECAYING_INTERVALS: tuple[tuple[int, int], ...] = ((10, 3), (30, 7))


# A lead registered today is first looked at this many days later.
FIRST_LOOK_DAYS = 3


# Classificado is watched closely this long after registration (call-ups come early), then
# decays like the others.
CLASSIFIED_WATCH_DAYS = 30


def as_day(moment: datetime | date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def intake_end(options: Sequence[Mapping[str, Any]] | None) -> date | None:
    """The first-choice offer's inscription window end (``dtTerminoInscricao``), if known."""
    text = str((options or [{}])[0].get("dtTerminoInscricao") or "")[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def tracking_ended_reason(intake_ends_on: date | None) -> str:
    """The ``tracking_ended`` reason recorded when a lead's intake is over."""
    detail = (
        f"intake over (inscriptions closed {intake_ends_on.isoformat()}, grace passed)"
        if intake_ends_on
        else "intake over (no inscription window known, horizon passed)"
    )
    return reason(StatusReason.TRACKING_ENDED, detail)


def tracking_ends_on(
    registered_on: date, intake_ends_on: date | None, rules: TrackingRules
) -> date:
    """The last day a registered lead is followed."""
    if intake_ends_on is not None:
        return max(intake_ends_on + timedelta(days=rules.grace_days), registered_on)
    return registered_on + timedelta(days=rules.horizon_days)


def interval_days(age_days: int, classification: str | None, rules: TrackingRules) -> int:
    """Days until the next look at a lead registered ``age_days`` ago."""
    classified = classification and normalise_classification(classification) == "classificado"
    if classified and age_days < CLASSIFIED_WATCH_DAYS:
        return min(rules.classified_interval_days, rules.max_interval_days)
    for bound, interval in DECAYING_INTERVALS:
        if age_days < bound:
            return min(interval, rules.max_interval_days)
    return rules.max_interval_days


def next_look(
    today: date,
    registered_at: datetime | date | None,
    classification: str | None,
    intake_ends_on: date | None,
    rules: TrackingRules,
) -> date | None:
    """When a tracked lead is looked at next; ``None``: its tracking is over (end it now).

    The last look falls on the tracking's last day. A lead without a registration time yet
    (pending at Kroton) is looked at again the next day.
    """
    if registered_at is None:
        return today + timedelta(days=1)
    registered_on = as_day(registered_at)
    end = tracking_ends_on(registered_on, intake_ends_on, rules)
    if today >= end:
        return None
    age = (today - registered_on).days
    wait = FIRST_LOOK_DAYS if age <= 0 else interval_days(age, classification, rules)
    return min(today + timedelta(days=wait), end)


def look_days(
    tracked_days: int, rules: TrackingRules, classification: str | None = None
) -> list[int]:
    """The ages (days after registration) at which a lead followed for ``tracked_days`` days
    is looked at, if Kroton's classification stays ``classification``."""
    start = date(2000, 1, 1)
    end = start + timedelta(days=tracked_days)
    ages: list[int] = []
    due = next_look(start, start, classification, None, rules)
    while due is not None and due <= end:
        ages.append((due - start).days)
        if due >= end:
            break
        due = next_look(due, start, classification, None, rules)
        if due is not None:
            due = min(due, end)
    return ages


def tracking_rules(rules: BusinessRules) -> TrackingRules:
    """The tracking settings out of the business rules."""
    return TrackingRules(
        grace_days=rules.tracking_grace_days,
        horizon_days=rules.tracking_horizon_days,
        max_interval_days=rules.tracking_max_interval_days,
        classified_interval_days=rules.tracking_classified_interval_days,
    )


_NON_DIGITS = re.compile(r"[^0-9]")


class PayloadError(ValueError):
    """A lead cannot be turned into a valid payload; ``field`` names the payload field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


def build_enrolment_payload(
    lead: Mapping[str, Any],
    first_offer_id: str,
    second_offer_id: str | None,
    rules: BusinessRules,
) -> dict[str, Any]:
    """Kroton's EnrollmentPayload for one lead and its chosen offers.

    ``lead`` has the ``subscriptions`` column names: user_name, cpf, gender, birthday (date,
    datetime, pandas Timestamp or ISO string), email, area_code, phone_number, cep, street,
    number, city, uf. ``segundaOpcao`` is omitted when ``second_offer_id`` is None.
    """
    cpf = _digits(lead.get("cpf"))
    if not is_valid_cpf(cpf):
        raise PayloadError("dadosPessoais.cpf", "must be a valid CPF")
    area, phone = _digits(lead.get("area_code")), _digits(lead.get("phone_number"))
    if len(area) != 2 or len(phone) not in (8, 9):
        raise PayloadError("dadosPessoais.celular", "must be a 2-digit DDD and 8-9 digits")
    cep = _digits(lead.get("cep"))
    if len(cep) != 8:
        raise PayloadError("dadosPessoais.endereco.cep", "must have 8 digits")
    sexo = _payload_text(lead.get("gender")).upper()
    if sexo not in ("M", "F"):
        if rules.gender_unknown_policy != "send":
            raise PayloadError("dadosPessoais.sexo", "must be M or F")
        sexo = rules.gender_unknown_send_as  # the policy: send what Kroton accepts
    uf = _payload_text(lead.get("uf")).upper()
    if not re.fullmatch(r"[A-Z]{2}", uf):
        raise PayloadError("dadosPessoais.endereco.uf", "must be two letters")
    if not _payload_text(first_offer_id):
        raise PayloadError("inscricao.ofertas.primeiraOpcao.id", "is required")

    ofertas: dict[str, Any] = {"primeiraOpcao": {"id": str(first_offer_id)}}
    if second_offer_id is not None:
        if not _payload_text(second_offer_id):
            raise PayloadError("inscricao.ofertas.segundaOpcao.id", "must not be empty")
        ofertas["segundaOpcao"] = {"id": str(second_offer_id)}

    payload: dict[str, Any] = {
        "dadosPessoais": {
            "celular": area + phone,
            "cpf": format_cpf(cpf),
            "dataNascimento": _iso_date(lead.get("birthday")),
            "email": _required(lead, "email", "dadosPessoais.email"),
            "endereco": {
                "cep": f"{cep[:5]}-{cep[5:]}",
                "logradouro": _required(lead, "street", "dadosPessoais.endereco.logradouro"),
                "municipio": _required(lead, "city", "dadosPessoais.endereco.municipio"),
                "numero": _required(lead, "number", "dadosPessoais.endereco.numero"),
                "uf": uf,
            },
            "necessidadesEspeciais": [],
            "nome": _required(lead, "user_name", "dadosPessoais.nome"),
            "rg": rules.rg_placeholder,
            "sexo": sexo,
        },
        "inscricao": {
            "canalVendas": {"id": rules.sales_channel_id},
            "idAfiliado": rules.affiliate_id,
            "idTipoProva": rules.exam_type_id,
            "ofertas": ofertas,
        },
    }
    if rules.payload_extras:
        _add_extras(payload, lead, rules)
    return payload


def completion_year(birthday: Any, rules: BusinessRules, today: date | None = None) -> int:
    """``anoConclusao``: the configured year, else the year the lead turned 18 (at most
    last year: nobody applies before finishing school)."""
    if rules.completion_year:
        return rules.completion_year
    this_year = (today or date.today()).year
    born = int(_iso_date(birthday)[:4])
    return min(born + 18, this_year - 1)


def _add_extras(payload: dict[str, Any], lead: Mapping[str, Any], rules: BusinessRules) -> None:
    inscricao = payload["inscricao"]
    inscricao["aceiteTermo"] = rules.accept_terms
    inscricao["aceitaReceberEmail"] = rules.accept_email
    inscricao["aceitaReceberSMS"] = rules.accept_sms
    inscricao["aceitaReceberWhatsApp"] = rules.accept_whatsapp
    inscricao["anoConclusao"] = completion_year(lead.get("birthday"), rules)
    inscricao["enem"] = {"utilizar": rules.use_enem}
    payload["dadosPessoais"]["endereco"]["bairro"] = rules.neighbourhood_placeholder


def _payload_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _digits(value: Any) -> str:
    return _NON_DIGITS.sub("", _payload_text(value))


def _required(lead: Mapping[str, Any], key: str, field: str) -> str:
    value = _payload_text(lead.get(key))
    if not value:
        raise PayloadError(field, "is required")
    return value


def _iso_date(value: Any) -> str:
    """``YYYY-MM-DD`` from a date, datetime, Timestamp, numpy datetime64 or ISO string."""
    field = "dadosPessoais.dataNascimento"
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if value is pd.NaT or value is None:
        raise PayloadError(field, "is required")
    if isinstance(value, datetime):  # includes pandas Timestamp
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            raise PayloadError(field, "must be an ISO date (YYYY-MM-DD)") from None
    raise PayloadError(field, "must be a date")


@dataclass(frozen=True, order=True)
class CourseSearch:
    """The fields of a subscription that decide which offers match it."""

    course_name: str
    unit_id: int
    course_type: str
    monthly_price: Decimal
    modality: str
    capture_period: int

    @classmethod
    def from_row(cls, row: Any) -> CourseSearch:
        """Build from a mapping or row object with the subscription's column names."""
        get = row.get if hasattr(row, "get") else lambda key: getattr(row, key)
        return cls(
            course_name=str(get("course_name")),
            unit_id=int(get("unit_id")),
            course_type=str(get("course_type")),
            monthly_price=Decimal(str(get("monthly_price"))).quantize(Decimal("0.01")),
            modality=str(get("modality")),
            capture_period=int(get("capture_period")),
        )


def build_course_query(search: CourseSearch, today: date, size: int = 10) -> dict[str, Any]:
    """The Elasticsearch bool query of the source document for ``search``.

    Only active offers whose registration period ends on or after ``today`` match.
    """
    return {
        "size": size,
        "query": {
            "bool": {
                "must": [
                    {"match": {"dsCurso": {"query": search.course_name, "operator": "AND"}}},
                    {"match": {"idUnidadeOrigem": search.unit_id}},
                    {"match": {"dsTipoCurso": search.course_type}},
                    {"match": {"vlMensalidadeDe": float(search.monthly_price)}},
                    {"match": {"ativa": True}},
                    {"match": {"dsModalidade": search.modality}},
                    {"term": {"periodoCaptacao": search.capture_period}},
                    {"range": {"dtTerminoInscricao": {"gte": today.isoformat()}}},
                ]
            }
        },
    }


def choose_options(hits: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The two offers for a lead (first and second option), or ``None`` if fewer than two.

    Offers come in the catalog's relevance order; duplicates of one offer id count once.
    """
    seen: set[str] = set()
    options: list[dict[str, Any]] = []
    for hit in hits:
        source = hit.get("_source", hit)
        offer_id = str(source.get("id", ""))
        if not offer_id or offer_id in seen:
            continue
        seen.add(offer_id)
        options.append(source)
        if len(options) == 2:
            return options
    return None
