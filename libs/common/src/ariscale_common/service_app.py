"""The FastAPI app every service starts from: offline Swagger UI, request ids, ``/metrics``, JSON errors."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from ariscale_common import metrics
from ariscale_common.errors import install_error_handlers
from ariscale_common.request_ids import RequestIdMiddleware

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(title: str, description: str, lifespan: Lifespan) -> FastAPI:
    """A FastAPI app whose ``/docs`` loads Swagger UI from the service itself (no CDN)."""
    app = FastAPIOffline(title=title, description=description, lifespan=lifespan)
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    app.include_router(metrics.router)
    return app
