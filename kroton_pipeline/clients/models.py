"""Typed bodies of the token and login answers and of the catalog search.

Kroton's inscription and registration answers, which come in two dialects, are read in
:mod:`kroton_pipeline.domain.kroton_answers`. Field names here follow Python; aliases are
the wire's camelCase names; unknown fields are kept (``extra="allow"``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kroton_pipeline.clients.errors import MalformedResponse

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
