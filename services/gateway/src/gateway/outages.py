"""What an app hears when a backing server is away: a 503 naming it, never a bare 500.

Redis (ownership) and a node's ARI can fail in the middle of any request; they heal by
themselves (see /health), so the answer says to retry rather than that the request was wrong.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from ariscale_common.ari import AriError
from ariscale_common.errors import error_body

log = logging.getLogger(__name__)


OUTAGES = (RedisError, AriError)


def outage_body(exc: Exception) -> dict[str, Any]:
    """The 503 body naming the server that failed (Redis or a node's ARI)."""
    if isinstance(exc, AriError):
        return error_body("node-unavailable", exc.message, {"node_url": exc.url, "status": exc.status})
    return error_body("ownership-store-unavailable", f"Redis is unavailable ({exc}); retry shortly")


def install_outage_handlers(app: FastAPI) -> None:
    async def outage(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s: %s failed: %s", request.method, request.url.path, type(exc).__name__, exc)
        return JSONResponse(outage_body(exc), status_code=503, headers={"Retry-After": "1"})

    for kind in OUTAGES:
        app.add_exception_handler(kind, outage)
