"""Composition root of the node agent: settings → clients → publisher, dialplan, subscriptions,
registration, app watcher; the lifespan starts them and stops them in reverse order."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ariscale_common import Health, LinkState, configure_logging
from ariscale_common.ari import AriClient
from ariscale_common.backoff import Backoff
from ariscale_common.dialplan import LINK_APP
from node_agent.api import health
from node_agent.app_watch import AppWatcher
from node_agent.consul_client import ConsulClient
from node_agent.dialplan_sync import DialplanSync
from node_agent.event_buffer import EventBuffer
from node_agent.publisher import LinkReporter, Publisher
from node_agent.registration import NodeRegistration
from node_agent.settings import Settings
from node_agent.subscriptions import Subscriptions

log = logging.getLogger(__name__)

SHUTDOWN_STEP_S = 3.0


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(f"node_agent[{settings.node_id}]", settings.log.level)
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
            _threadsafe_reporter(health, "amqp"),
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

        publisher.start()
        subscriptions.ensure(set())
        tasks = [
            asyncio.create_task(_supervised(name, job), name=name)
            for name, job in (
                ("registration", registration.run),
                ("dialplan", dialplan.run),
                ("app-watch", watcher.run),
            )
        ]
        log.info("%s: node agent started (ARI %s)", node_id, settings.ari.url)
        try:
            yield
        finally:
            log.info("%s: node agent stopping", node_id)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await subscriptions.aclose()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(dialplan.clear(), SHUTDOWN_STEP_S)
            await asyncio.wait_for(registration.deregister(), SHUTDOWN_STEP_S)
            await asyncio.to_thread(publisher.stop, SHUTDOWN_STEP_S)
            await ari.aclose()

    app = FastAPI(title="ariscale node agent", lifespan=lifespan)
    app.include_router(health.router)
    return app


def _threadsafe_reporter(health: Health, link: str) -> LinkReporter:
    """A link reporter other threads may call: the state change runs on the event loop."""
    loop = asyncio.get_running_loop()

    def report(state: LinkState, detail: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody reads health any more
            loop.call_soon_threadsafe(health.set, link, state, detail)

    return report


async def _supervised(name: str, job: Callable[[], Awaitable[None]]) -> None:
    """Run ``job`` forever: a bug that raises is logged and the job restarted a second later."""
    while True:
        try:
            await job()
        except Exception:
            log.exception("%s failed; restarting it", name)
            await asyncio.sleep(1.0)
