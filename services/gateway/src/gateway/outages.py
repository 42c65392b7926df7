"""What an app hears when a backing server is away: a 503 naming it, never a bare 500.

Redis (ownership) and a node's ARI can fail in the middle of any request; they heal by
themselves (see /health), so the answer says to retry rather than that the request was wrong.
"""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from ariscale_common.ari import AriError
from ariscale_common.errors import error_body

log = logging.getLogger(__name__)


def install_outage_handlers(app: FastAPI) -> None:
    async def redis_down(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s: Redis unavailable: %s", request.method, request.url.path, exc)
        body = error_body("ownership-store-unavailable", f"Redis is unavailable ({exc}); retry shortly")
        return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})

    async def node_down(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AriError)
        log.error("%s %s: node ARI failed: %s", request.method, request.url.path, exc)
        body = error_body("node-unavailable", exc.message, {"node_url": exc.url, "status": exc.status})
        return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})

    app.add_exception_handler(RedisError, redis_down)
    app.add_exception_handler(AriError, node_down)
