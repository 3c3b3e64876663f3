"""Typed request and response bodies of Kroton, Captação and the catalog (SPEC §3).

Field names follow Python; aliases are Kroton's camelCase names. Every response model keeps
unknown fields (``extra="allow"``), and :meth:`KrotonModel.source` gives the answer back in
Kroton's own shape, so follow-ups can store Kroton's full answer as JSON.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kroton_pipeline.clients.errors import MalformedResponse

ProcessingStatus = Literal["NEW", "PROCESSING", "SUCCESS", "ERROR"]
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


class Classificacao(KrotonModel):
    descricao: str | None = None


class Inscricao(KrotonModel):
    """One inscription of a CPF (inscriptions-by-CPF look-up)."""

    id: str
    inscricao_id: str | None = Field(None, alias="inscricaoId")
    classificacao: Classificacao | None = None
    curso: str | None = None
    unidade: str | None = None
    status: str | None = None
    sistema: str | None = None
    data_inscricao: str | None = Field(None, alias="dataInscricao")
    id_afiliado: str | None = Field(None, alias="idAfiliado")


class InscricoesByCpf(KrotonModel):
    """``GET /ms/inscricaocqrs/captacao/v5/inscricao/cpf/{cpf}`` answer."""

    inscricoes: list[Inscricao] = Field(default_factory=list)


class Matricula(KrotonModel):
    """One enrolment of a CPF."""

    id: str
    curso: str | None = None
    unidade: str | None = None
    situacao: str | None = None
    sistema: str | None = None
    data_matricula: str | None = Field(None, alias="dataMatricula")


class MatriculasByCpf(KrotonModel):
    """``GET /ms/matricula/captacao/v1/ms/matricula/candidato/cpf/{cpf}`` answer."""

    matriculas: list[Matricula] = Field(default_factory=list)


class InscricaoStatus(KrotonModel):
    """``GET /ms/inscricao/v4/captacao/inscricao/{inscricao}/sistema/{sistema}`` answer."""

    inscricao_id: str = Field(alias="inscricaoId")
    sistema: str | None = None
    status: str | None = None
    message: str | None = None
    classificacao: Classificacao | None = None


class RegistrationAnswer(KrotonModel):
    """``POST /ms/inscricao/v4/captacao/inscricao`` answer (source doc: EnrollmentResponse)."""

    success: bool
    inscricao_id: str | None = Field(None, alias="inscricaoId")
    status: str | None = None
    message: str | None = None
    errors: list[str] | None = None


class RegistrationResult(BaseModel):
    """What :meth:`KrotonClient.register` returns: Kroton's answer, or a dry-run record."""

    dry_run: bool = False
    answer: RegistrationAnswer | None = None
    payload: dict[str, Any]

    @property
    def inscricao_id(self) -> str | None:
        return self.answer.inscricao_id if self.answer else None

    @property
    def status(self) -> str | None:
        return self.answer.status if self.answer else None


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
