"""The catalog search for a lead's desired course (source document, "Consulta de Cursos").

Leads that want the same course at the same unit, type, price, modality and capture period
share one :class:`CourseSearch`; the pipeline sends each distinct search once per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any


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
