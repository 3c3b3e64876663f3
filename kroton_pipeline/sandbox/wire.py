"""What the simulated Kroton puts on the wire, in each dialect it speaks.

``source``: the design document's shapes — CPF look-up ``{"inscricoes": [flat items]}``
(failed registrations left out), one inscription's state
``{inscricaoId, sistema, status, message, classificacao}``, registration answer
``{success, inscricaoId, status, message}`` at ``/ms/inscricao/v4/captacao/inscricao``.

``v5``: what production integrations read — the CPF look-up is a top-level array of nested
items ``{sistema, processamento: {status}, dadosPessoais, inscricao: {idOrigem, businessKey,
dataInscricao, classificacao: {descricao}, ofertas}, matricula: {id, ra}}`` (failed ones
included), numeric ids, one inscription by id at ``/ms/inscricaocqrs/captacao/v5/inscricao/
{id}``, registration at ``/ms/inscricaocqrs/captacao/v5/inscricao`` answered 201 with the new
item (or, when configured, with no body), errors as ``{"message"}`` or ``{"data"}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from kroton_pipeline.sandbox import lifecycle as lc
from kroton_pipeline.sandbox.clock import iso_timestamp

if TYPE_CHECKING:
    from kroton_pipeline.sandbox.state import SandboxState

Dialect = Literal["source", "v5"]
DIALECTS: tuple[Dialect, ...] = ("source", "v5")

_CPF = r"/ms/inscricaocqrs/captacao/v5/inscricao/cpf/(?P<cpf>[^/]+)"
_ENROLMENTS = r"/ms/matricula/captacao/v1/ms/matricula/candidato/cpf/(?P<cpf>[^/]+)"
# (method, path pattern, endpoint name) per dialect; the names are the journal's and the
# fault injector's.
LOOKUP_ROUTES: dict[Dialect, tuple[tuple[str, str, str], ...]] = {
    "source": (
        ("GET", _CPF, "inscricoes_by_cpf"),
        ("GET", _ENROLMENTS, "matriculas_by_cpf"),
        (
            "GET",
            r"/ms/inscricao/v4/captacao/inscricao/(?P<inscricao>[^/]+)/sistema/(?P<sistema>[^/]+)",
            "inscricao_status",
        ),
    ),
    "v5": (
        ("GET", _CPF, "inscricoes_by_cpf"),
        ("GET", _ENROLMENTS, "matriculas_by_cpf"),
        (
            "GET",
            r"/ms/inscricaocqrs/captacao/v5/inscricao/(?P<inscricao>[^/]+)",
            "inscricao_status",
        ),
    ),
}
REGISTER_ROUTE: dict[Dialect, tuple[str, str, str]] = {
    "source": ("POST", r"/ms/inscricao/v4/captacao/inscricao", "register"),
    "v5": ("POST", r"/ms/inscricaocqrs/captacao/v5/inscricao", "register"),
}


def _punctuated(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


def _source_item(state: SandboxState, ins: lc.Inscription) -> dict[str, Any]:
    return {
        "id": ins.inscricao_id,
        "inscricaoId": ins.inscricao_id,
        "classificacao": {"descricao": state.classification_of(ins) or lc.INSCRITO},
        "curso": ins.curso,
        "unidade": ins.unidade,
        "status": state.status_of(ins),
        "sistema": ins.sistema,
        "dataInscricao": iso_timestamp(ins.created_at),
        "idAfiliado": ins.id_afiliado,
    }


def _v5_item(state: SandboxState, ins: lc.Inscription) -> dict[str, Any]:
    status = state.status_of(ins)
    classification = state.classification_of(ins)
    if classification is None and status in ("NEW", "PROCESSING"):
        classification = lc.INSCRITO
    if classification and ins.sistema in ("SAP", "ATHENAS"):
        classification = classification.upper()  # as those systems spell it
    student_since = state.enrolment_time_of(ins)
    offer = state.catalog.by_id.get(ins.offer_ids[0], {}) if ins.offer_ids else {}
    return {
        "sistema": ins.sistema,
        "processamento": {"status": status},
        "dadosPessoais": {"nome": ins.nome, "cpf": _punctuated(ins.cpf)},
        "inscricao": {
            "idOrigem": int(ins.inscricao_id),
            "businessKey": f"CPF_{ins.cpf}_OFFER_SRC_KROTON_{int(ins.inscricao_id):x}",
            "dataInscricao": iso_timestamp(ins.created_at)[:19],
            "tipoIngresso": "VESTIBULAR",
            "enem": {"utilizar": False},
            "classificacao": {"descricao": classification} if classification else None,
            "ofertas": {
                "primeiraOpcao": {
                    "dsCurso": ins.curso,
                    "dsUnidade": ins.unidade,
                    "dsModalidade": offer.get("dsModalidade"),
                    "dtTerminoInscricao": offer.get("dtTerminoInscricao"),
                }
            },
        },
        "matricula": (
            {"id": 3_700_000_000 + int(ins.inscricao_id), "ra": f"RA{ins.inscricao_id}"}
            if student_since is not None
            else {"id": None, "ra": None}
        ),
    }


def cpf_lookup(state: SandboxState, dialect: Dialect, cpf: str) -> Any:
    """Answer of the inscriptions-by-CPF look-up."""
    held = state.of_cpf(cpf)
    if dialect == "v5":
        return [_v5_item(state, ins) for ins in held]
    # The design document's look-up lists inscriptions, not failed registrations.
    return {
        "inscricoes": [_source_item(state, ins) for ins in held if state.status_of(ins) != "ERROR"]
    }


def inscription_state(state: SandboxState, dialect: Dialect, ins: lc.Inscription) -> Any:
    """Answer of the one-inscription look-up."""
    if dialect == "v5":
        return _v5_item(state, ins)
    status = state.status_of(ins)
    classification = state.classification_of(ins)
    return {
        "inscricaoId": ins.inscricao_id,
        "sistema": ins.sistema,
        "status": status,
        "message": "Falha no processamento da inscrição" if status == "ERROR" else None,
        "classificacao": {"descricao": classification} if classification else None,
    }


def registered(
    state: SandboxState, dialect: Dialect, ins: lc.Inscription, immediate: bool, empty: bool
) -> tuple[int, Any]:
    """(HTTP status, body) of an accepted registration."""
    if dialect == "v5":
        if empty:
            return 201, None
        item = _v5_item(state, ins)
        return 201, {k: item[k] for k in ("sistema", "processamento", "inscricao")}
    return 200, {
        "success": True,
        "inscricaoId": ins.inscricao_id,
        "status": "SUCCESS" if immediate else "NEW",
        "message": None,
    }


def refused(dialect: Dialect, errors: list[str]) -> tuple[int, Any]:
    """(422, body) of a registration with invalid data."""
    message = "Dados inválidos: " + "; ".join(errors)
    if dialect == "v5":
        return 422, {"data": message}
    return 422, {"success": False, "status": "ERROR", "message": message, "errors": errors}


def conflict(dialect: Dialect, existing: lc.Inscription) -> tuple[int, Any]:
    """(409, body) of a registration for a CPF with an active inscription."""
    if dialect == "v5":
        return 409, {"message": "Candidato já inscrito para esta oferta"}
    return 409, {
        "success": False,
        "status": "ERROR",
        "message": "CPF já possui inscrição ativa",
        "errors": ["dadosPessoais.cpf: já possui inscrição ativa"],
        "inscricaoId": existing.inscricao_id,
    }
