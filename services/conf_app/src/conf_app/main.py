"""Composition root of the conf app service: settings, clients, routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ariscale_common import Health, configure_logging
from conf_app.api import health
from conf_app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("conf_app", settings.log.level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.health = Health("conf_app")
        yield

    app = FastAPI(title="ariscale conf app", lifespan=lifespan)
    app.include_router(health.router)
    return app
