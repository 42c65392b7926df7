"""Composition root of the gateway: settings → clients → services → routes."""

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from ariscale_common import Health, configure_logging
from ariscale_common.ari import AriError
from ariscale_common.errors import install_error_handlers
from ariscale_common.health import probe_forever
from gateway.api import ari, docs, events, health
from gateway.auth import Authenticator
from gateway.bridges import CrossNodeBridges
from gateway.bus_consume import BusWorker, follow_apps
from gateway.consul_watch import ConsulWatch
from gateway.dispatch import Assignments, Dispatcher
from gateway.failover import Incidents, NodeFailover
from gateway.forwarding import AriGateway
from gateway.grace import CallIndex, GraceSweeper
from gateway.instances import InstanceRegistry, Instances
from gateway.linking import Linker, LinkStore
from gateway.locate import Locator
from gateway.membership import BridgeMembers
from gateway.nodes import NodeClients
from gateway.notifier import DeadNodeNotifier
from gateway.outages import install_outage_handlers
from gateway.ownership import OwnershipStore
from gateway.settings import Settings
from gateway.tracking import StasisTracker


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
        members = BridgeMembers(redis, settings.redis.key_prefix)
        bridges = CrossNodeBridges(linker, locator, nodes, members)
        app.state.ari = AriGateway(ownership, locator, nodes, bridges)
        app.state.authenticator = Authenticator(watch)
        redis_probe = asyncio.create_task(probe_forever(checker, "redis", redis.ping), name="redis-health")
        # Events: bus worker (thread) ⇄ tracker, dispatcher, websocket instances, grace sweeper.
        prefix = settings.redis.key_prefix
        registry = InstanceRegistry(redis, prefix, settings.instance_ttl_seconds)
        calls = CallIndex(redis, prefix)
        tracker = StasisTracker(app.state.ownership, calls, members, member_left=linker.unlink_if_unused)
        worker = BusWorker(
            settings.amqp.url,
            gateway_id,
            asyncio.get_running_loop(),
            checker,
            track=tracker.handle,
            dispatch=lambda name, body, avoid: dispatcher.dispatch(name, body, avoid),
            deliver=lambda name, instance, body: dispatcher.deliver(name, instance, body),
        )
        instances = Instances(
            registry,
            gateway_id,
            checker,
            heartbeat=settings.instance_heartbeat_seconds,
            send_timeout=settings.event_send_timeout_seconds,
            on_first=worker.dispatch_app,
            on_last=worker.stop_dispatching,
        )
        dispatcher = Dispatcher(Assignments(redis, prefix, registry), instances, view=bridges.app_view)
        sweeper = GraceSweeper(
            redis,
            prefix,
            calls,
            registry,
            app.state.ownership,
            hang_up=lambda node, channel: _hang_up(nodes, node, channel),
            grace=settings.hangup_grace_seconds,
        )
        failover = NodeFailover(
            watch,
            nodes,
            Incidents(redis, prefix, gateway_id),
            ownership,
            linker,
            members,
            DeadNodeNotifier(settings.amqp.url, gateway_id),
        )
        app.state.instances = instances
        worker.start()
        await instances.start()
        await sweeper.start()
        await failover.start()
        following = asyncio.create_task(follow_apps(worker, watch), name="follow-apps")
        try:
            yield
        finally:
            following.cancel()
            redis_probe.cancel()
            await failover.stop()
            await sweeper.stop()
            await instances.stop()
            await worker.stop()
            await watch.stop()
            await nodes.aclose()
            await redis.aclose()

    app = FastAPI(title="ariscale gateway", description="ARI for the whole cluster.", lifespan=lifespan)
    install_error_handlers(app)
    install_outage_handlers(app)
    app.include_router(health.router)
    app.include_router(events.router)
    app.include_router(docs.router)
    app.include_router(ari.build_router())
    return app


async def _hang_up(nodes: NodeClients, node_id: str, channel_id: str) -> None:
    """Hang a channel up on its node; one that is already gone is fine."""
    node = nodes.node(node_id)
    if node is None:
        raise LookupError(f"node {node_id} is not known (any more)")
    try:
        await nodes.client(node).delete(f"/channels/{channel_id}")
    except AriError as exc:
        if exc.status != 404:
            raise
