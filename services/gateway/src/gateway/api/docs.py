"""Asterisk's own Swagger 1.1 documents at /ari/api-docs, with basePath pointing at the gateway.

Swagger-driven ARI clients (ari-client for JavaScript, ari-py, asyncari) load these to build
themselves, so they talk to the gateway exactly as they would to one Asterisk.
"""

from typing import Any

from fastapi import APIRouter, Request

from gateway.deps import CurrentApp
from gateway.exceptions import ResourceNotFound
from gateway.routing.spec import document_for

router = APIRouter(prefix="/ari/api-docs", tags=["ari docs"])


@router.get("/{resource}.json")
async def api_document(resource: str, request: Request, _: CurrentApp) -> dict[str, Any]:
    """Behind the same authentication as the rest of ARI, as on a node."""
    try:
        return document_for(resource, str(request.base_url).rstrip("/") + "/ari")
    except KeyError:
        raise ResourceNotFound(f"no ARI resource {resource!r}") from None
