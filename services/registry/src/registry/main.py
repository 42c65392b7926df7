"""Composition root of the registry service: settings, clients, routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ariscale_common import Health, configure_logging
from registry.api import health
from registry.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("registry", settings.log.level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.health = Health("registry")
        yield

    app = FastAPI(title="ariscale registry", lifespan=lifespan)
    app.include_router(health.router)
    return app
