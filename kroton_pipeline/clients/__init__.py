"""httpx clients of Kroton, Captação and the catalog, and their Dagster resources.

Clients: :class:`KrotonClient`, :class:`CaptacaoClient`, :class:`CatalogClient`.
Resources: :class:`KrotonResource`, :class:`CaptacaoResource`, :class:`CatalogResource`.
Failures: :mod:`kroton_pipeline.clients.transport`.
"""

from kroton_pipeline.clients.captacao import CaptacaoClient
from kroton_pipeline.clients.kroton import CatalogClient, KrotonClient
from kroton_pipeline.clients.resources import CaptacaoResource, CatalogResource, KrotonResource
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
    "CaptacaoResource",
    "CatalogClient",
    "CatalogResource",
    "KrotonClient",
    "KrotonError",
    "KrotonRejected",
    "KrotonResource",
    "MalformedResponse",
    "NotFound",
    "OutcomeUnknown",
    "RateLimited",
    "TransientFailure",
]
