"""Reading Kroton's answers: which inscription counts and what status it means.

Pure functions over the JSON Kroton returns (client models are dumped to plain dicts first),
so the same rules serve the pre-check, the reconciliation of unknown outcomes, the polling
of pending inscriptions and the daily follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kroton_pipeline.domain.statuses import (
    Status,
    status_for_classification,
    status_for_processing,
)


def as_json(answer: Any) -> dict[str, Any]:
    """A client answer (pydantic model or dict) as the plain JSON Kroton sent."""
    if isinstance(answer, dict):
        return answer
    if hasattr(answer, "source"):
        return answer.source()
    return answer.model_dump(mode="json", by_alias=True)


@dataclass(frozen=True)
class KrotonView:
    """What Kroton says about one inscription, reduced to what the pipeline needs."""

    inscription_id: str | None
    system: str | None
    dealer_id: str | None
    classification: str | None
    processing: str | None
    status: Status | None  # None: Kroton's answer does not map to a status (warn, keep)

    @property
    def unknown_classification(self) -> bool:
        return (
            self.classification is not None
            and status_for_classification(self.classification) is None
        )


def _classification(item: dict[str, Any]) -> str | None:
    classification = item.get("classificacao")
    if isinstance(classification, dict):
        return classification.get("descricao")
    return classification


def view_of(item: dict[str, Any]) -> KrotonView:
    """Interpret one inscription (from a CPF look-up or a status look-up).

    Processing comes first: an inscription still NEW/PROCESSING is ``awaiting_register``,
    an ERROR is ``failed``; once processed, the classification decides.
    """
    classification = _classification(item)
    processing = item.get("status")
    status = status_for_processing(processing)
    if status in (None, Status.REGISTERED) and classification:
        status = status_for_classification(classification)
    return KrotonView(
        inscription_id=str(item.get("inscricaoId") or item.get("id") or "") or None,
        system=item.get("sistema"),
        dealer_id=item.get("idAfiliado"),
        classification=classification,
        processing=processing,
        status=status,
    )


_PREFERENCE = {
    Status.ENROLLED: 0,
    Status.REGISTERED: 1,
    Status.AWAITING_REGISTER: 2,
    Status.DROPPED: 3,
    Status.FAILED: 4,
}


def best_inscription(answer: dict[str, Any]) -> KrotonView | None:
    """The inscription that best describes the person, or ``None`` when there is none.

    A person may hold several inscriptions; the most advanced live one wins, so a lead with
    one failed and one live inscription is followed on the live one.
    """
    items = answer.get("inscricoes") or []
    views = [view_of(item) for item in items if isinstance(item, dict)]
    if not views:
        return None
    return min(views, key=lambda view: _PREFERENCE.get(view.status, 9) if view.status else 8)


def is_open(view: KrotonView | None) -> bool:
    """Whether the inscription look-up leaves the answer open (an enrolment look-up helps).

    Only when every inscription Kroton holds has failed can the person still be enrolled
    through another channel; otherwise the inscription answer is enough.
    """
    return view is not None and view.status is Status.FAILED


def has_active_enrolment(answer: dict[str, Any]) -> bool:
    for item in answer.get("matriculas") or []:
        if isinstance(item, dict) and str(item.get("situacao", "")).upper() == "ATIVA":
            return True
    return False
