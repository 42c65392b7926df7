"""Composition root of the node agent service: settings, clients, routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ariscale_common import Health, configure_logging
from node_agent.api import health
from node_agent.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("node_agent", settings.log.level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.health = Health("node_agent")
        yield

    app = FastAPI(title="ariscale node agent", lifespan=lifespan)
    app.include_router(health.router)
    return app
