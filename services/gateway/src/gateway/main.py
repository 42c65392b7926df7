"""Composition root of the gateway service: settings, clients, routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ariscale_common import Health, configure_logging
from gateway.api import health
from gateway.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("gateway", settings.log.level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.health = Health("gateway")
        yield

    app = FastAPI(title="ariscale gateway", lifespan=lifespan)
    app.include_router(health.router)
    return app
