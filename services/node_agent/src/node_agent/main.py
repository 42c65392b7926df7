"""Composition root of the node agent: settings → clients → publisher, dialplan, subscriptions,
registration, app watcher; the lifespan starts them and stops them in reverse order."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ariscale_common import Health, configure_logging
from ariscale_common.ari import AriClient
from ariscale_common.background import BackgroundTask
from ariscale_common.backoff import Backoff
from ariscale_common.dialplan import LINK_APP
from ariscale_common.health import threadsafe_reporter
from ariscale_common.service_app import create_service_app
from node_agent import metrics
from node_agent.api import health
from node_agent.app_watch import AppWatcher
from node_agent.consul_client import ConsulClient
from node_agent.dialplan_sync import DialplanSync
from node_agent.event_buffer import EventBuffer
from node_agent.publisher import Publisher
from node_agent.registration import NodeRegistration
from node_agent.settings import Settings
from node_agent.subscriptions import Subscriptions

log = logging.getLogger(__name__)

SHUTDOWN_STEP_S = 3.0


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("node_agent", settings.log.level, node=settings.node_id)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per ARI probe otherwise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timing = settings.timing
        node_id = settings.node_id
        health = Health("node_agent")
        ari = AriClient(settings.ari.url, settings.ari.user, settings.ari.password, timeout=2.0)
        consul = ConsulClient(settings.consul.url, settings.consul.kv_prefix, node_id)
        publisher = Publisher(
            settings.amqp.url,
            node_id,
            EventBuffer(settings.event_buffer_size),
            threadsafe_reporter(health, "amqp", asyncio.get_running_loop()),
            timing.reconnect_max_s,
        )
        dialplan = DialplanSync(ari, node_id, Backoff(timing.reconnect_min_s, timing.reconnect_max_s))
        subscriptions = Subscriptions(
            settings.ari, node_id, health, publisher, dialplan, timing, permanent=[LINK_APP]
        )
        registration = NodeRegistration(consul, ari, settings, health)
        watcher = AppWatcher(
            consul, subscriptions, dialplan, health, node_id, timing.kv_wait_s,
            Backoff(timing.reconnect_min_s, timing.reconnect_max_s),
        )  # fmt: skip

        app.state.settings = settings
        app.state.health = health
        app.state.publisher = publisher
        app.state.dialplan = dialplan
        app.state.subscriptions = subscriptions

        metrics.install(app, node_id, publisher, health, ari)

        publisher.start()
        subscriptions.ensure(set())
        tasks = [
            BackgroundTask("registration", registration.run),
            BackgroundTask("dialplan", dialplan.run),
            BackgroundTask("app-watch", watcher.run),
        ]
        for task in tasks:
            task.start()
        log.info("%s: node agent started (ARI %s)", node_id, settings.ari.url)
        try:
            yield
        finally:
            log.info("%s: node agent stopping", node_id)
            await asyncio.gather(*(task.stop() for task in tasks))
            await subscriptions.aclose()
            try:
                async with asyncio.timeout(SHUTDOWN_STEP_S):
                    await dialplan.clear()
            except Exception as exc:  # Asterisk gone or slow: shutting down goes on regardless
                log.warning(
                    "%s: dialplan globals not cleared (%r): calls to this node's numbers still enter"
                    " Stasis, with no agent to publish their events, until Asterisk restarts",
                    node_id, exc,
                )  # fmt: skip
            async with asyncio.timeout(SHUTDOWN_STEP_S):
                await registration.deregister()
            await asyncio.to_thread(publisher.stop, SHUTDOWN_STEP_S)
            await ari.aclose()

    app = create_service_app(
        "ariscale node agent", "One Asterisk node: its registration, ARI websockets and events.", lifespan
    )
    app.include_router(health.router)
    return app
