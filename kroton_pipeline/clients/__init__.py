"""httpx clients of Kroton, Captação and the catalog (no Dagster here).

Clients: :class:`KrotonClient`, :class:`CaptacaoClient`, :class:`CatalogClient`
(:mod:`kroton_pipeline.clients.kroton`, :mod:`kroton_pipeline.clients.captacao`).
Sending, retries, the rate budget and failures: :mod:`kroton_pipeline.clients.transport`.
Their Dagster resources: :mod:`kroton_pipeline.defs.common.resources`.
"""

from kroton_pipeline.clients.captacao import CaptacaoClient
from kroton_pipeline.clients.kroton import CatalogClient, KrotonClient
from kroton_pipeline.clients.transport import (
    AuthenticationFailed,
    KrotonError,
    KrotonRejected,
    MalformedResponse,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    TransientFailure,
)

__all__ = [
    "AuthenticationFailed",
    "CaptacaoClient",
    "CatalogClient",
    "KrotonClient",
    "KrotonError",
    "KrotonRejected",
    "MalformedResponse",
    "NotFound",
    "OutcomeUnknown",
    "RateLimited",
    "TransientFailure",
]
