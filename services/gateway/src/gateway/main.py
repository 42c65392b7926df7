"""Composition root of the gateway: settings → clients → services → routes."""

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from ariscale_common import Health, LinkState, configure_logging
from ariscale_common.errors import install_error_handlers
from gateway.api import ari, docs, health
from gateway.auth import Authenticator
from gateway.bridges import CrossNodeBridges
from gateway.consul_watch import ConsulWatch
from gateway.forwarding import AriGateway
from gateway.linking import Linker, LinkStore
from gateway.locate import Locator
from gateway.nodes import NodeClients
from gateway.ownership import OwnershipStore
from gateway.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("gateway", settings.log.level)
    gateway_id = settings.gateway_id or f"{socket.gethostname()}:{os.getpid()}"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        checker = Health("gateway")
        redis = Redis.from_url(settings.redis.url, health_check_interval=10)
        watch = ConsulWatch(settings.consul.url, settings.consul.kv_prefix, checker)
        await watch.start()
        nodes = NodeClients(watch, settings.ari.user, settings.ari.password, settings.node_timeout_seconds)
        app.state.settings = settings
        app.state.gateway_id = gateway_id
        app.state.health = checker
        app.state.watch = watch
        app.state.nodes = nodes
        ownership = OwnershipStore(redis, settings.redis.key_prefix)
        app.state.ownership = ownership
        locator = Locator(ownership, nodes)
        linker = Linker(LinkStore(redis, settings.redis.key_prefix), nodes)
        app.state.linker = linker
        app.state.ari = AriGateway(ownership, locator, nodes, CrossNodeBridges(linker, locator, nodes))
        app.state.authenticator = Authenticator(watch)
        checker.set("redis", LinkState.UP if await _redis_ok(redis) else LinkState.DOWN)
        try:
            yield
        finally:
            await watch.stop()
            await nodes.aclose()
            await redis.aclose()

    app = FastAPI(title="ariscale gateway", description="ARI for the whole cluster.", lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(ari.build_router())
    return app


async def _redis_ok(redis: Redis) -> bool:
    try:
        return bool(await redis.ping())
    except Exception:
        return False
