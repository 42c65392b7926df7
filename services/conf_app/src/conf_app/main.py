"""Composition root of the conference app: register, start the SDK app, serve the API."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app_sdk import Config
from ariscale_common import Health, LinkState, configure_logging
from ariscale_common.health import health_router
from ariscale_common.service_app import create_service_app
from conf_app import metrics
from conf_app.api import conferences
from conf_app.conference import ConferenceApp
from conf_app.registration import ensure_registered
from conf_app.services import ConferenceService
from conf_app.settings import Settings

log = logging.getLogger(__name__)

CALLS_LINK = "calls"  # the SDK app serving the extension (its event stream reconnects by itself)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("conf_app", settings.log.level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        checker = Health("conf_app")
        conference = ConferenceApp(
            Config(gateway_url=settings.gateway_url, credentials_dir=settings.credentials_dir),
            settings.app_name,
            settings.conference,
        )
        stop = asyncio.Event()
        runner = asyncio.create_task(_run(settings, conference, checker, stop))
        app.state.settings = settings
        app.state.health = checker
        app.state.conferences = ConferenceService(conference)
        metrics.install(app, conference)
        try:
            yield
        finally:
            stop.set()
            try:
                async with asyncio.timeout(10):
                    await runner
            except TimeoutError:
                log.warning("the conference app did not stop within 10 s: cancelled it")

    app = create_service_app("ariscale conf_app", "The 8000 conference, on any node.", lifespan)
    app.include_router(health_router())
    app.include_router(conferences.router)
    return app


async def _run(settings: Settings, conference: ConferenceApp, checker: Health, stop: asyncio.Event) -> None:
    """Register (retrying until the registry answers), then serve calls until stopped."""
    checker.set("registry", LinkState.CONNECTING)
    delay = 0.5
    while not stop.is_set():
        try:
            await ensure_registered(
                settings.registry_url, settings.admin_token, settings.app_name, settings.extension,
                settings.credentials_dir,
            )  # fmt: skip
            break
        except Exception as exc:  # registry not up yet, or refusing: keep trying, say so
            checker.set("registry", LinkState.DOWN, f"{exc}; retry in {delay:.1f} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
    checker.set("registry", LinkState.UP)
    await serve_calls(conference, checker, stop)


async def serve_calls(conference: ConferenceApp, checker: Health, stop: asyncio.Event) -> None:
    """Serve the conference until stopped; if it crashes, say so in the log and in ``/health``."""
    checker.set(CALLS_LINK, LinkState.UP, f"app {conference.app_name}")
    try:
        await conference.serve(stop)
    except Exception as exc:  # nothing restarts it: without this, the service would look healthy
        log.exception(
            "the conference app %s stopped: nobody answers its extension until conf_app restarts",
            conference.app_name,
        )
        checker.set(CALLS_LINK, LinkState.DOWN, f"stopped: {type(exc).__name__}: {exc}")
