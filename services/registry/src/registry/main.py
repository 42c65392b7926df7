"""Composition root of the registry service: settings, database, Consul, services, routes."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from redis.exceptions import RedisError

from ariscale_common import Health, LinkState, configure_logging
from ariscale_common.consumers import live_consumers
from ariscale_common.service_app import create_service_app
from registry import db, metrics
from registry.api import router
from registry.apps import AppService, load_records
from registry.consul_changes import ConsulChanges
from registry.consul_store import ConsulStore
from registry.dashboard import DashboardService
from registry.edge_sync import EdgeSync
from registry.kv_mirror import AppMirror
from registry.node_ari import NodeAri
from registry.nodes import NodeService
from registry.prometheus_query import PrometheusQuery
from registry.settings import Settings

log = logging.getLogger(__name__)

# Long enough for a running kamcmd (5 s timeout) or Consul call to finish before we cancel.
SHUTDOWN_TIMEOUT = 8.0


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("registry", settings.log.level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        health = Health("registry")
        engine = db.create_engine(settings.database_url)
        await db.upgrade_to_head(engine)
        health.set("database", LinkState.UP, engine.dialect.name)

        store = ConsulStore(settings.consul.url, settings.consul.kv_prefix, health)
        health.set("consul", LinkState.CONNECTING)
        node_ari = NodeAri(settings.ari.user, settings.ari.password, settings.node_ari_timeout)
        edge = EdgeSync(store, settings.sip_edge, health)
        sessions = db.session_factory(engine)
        mirror = AppMirror(
            store, partial(load_records, sessions), settings.kv_resync_interval, settings.kv_check_interval
        )
        changes = ConsulChanges(
            settings.consul.url, settings.consul.kv_prefix, health, listeners=[edge.nudge, mirror.nudge]
        )
        redis = settings.redis.client()

        async def consumers(name: str) -> int | None:
            try:
                return await live_consumers(redis, settings.redis.key_prefix, name)
            except RedisError as exc:
                log.warning("app %s: live instances unknown, Redis failed: %s", name, exc)
                return None  # shown as unknown, not as zero

        apps = AppService(sessions, mirror, store, node_ari, consumers)
        nodes = NodeService(store, node_ari, on_drain_change=edge.nudge)
        prometheus = PrometheusQuery(settings.prometheus_url) if settings.prometheus_url else None
        app.state.dashboard = DashboardService(store, node_ari, apps, consumers, prometheus)

        app.state.settings = settings
        app.state.health = health
        app.state.apps = apps
        app.state.nodes = nodes
        app.state.mirror = mirror
        app.state.edge = edge
        metrics.install(app, apps, store, edge)
        tasks = [
            asyncio.create_task(mirror.run(), name="kv-mirror"),
            asyncio.create_task(edge.run(), name="sip-edge-sync"),
        ]
        changes.start()
        try:
            yield
        finally:
            await changes.stop()
            mirror.stop()
            edge.stop()
            await redis.aclose()
            _, late = await asyncio.wait(tasks, timeout=SHUTDOWN_TIMEOUT)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await store.aclose()  # after the loops that use it have ended
            await engine.dispose()

    app = create_service_app(
        "ariscale registry",
        "Applications, their dialed numbers and credentials; the Asterisk nodes; the SIP edge.",
        lifespan,
    )
    app.include_router(router)
    return app
