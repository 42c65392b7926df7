"""Composition root of the gateway: settings → clients → services → routes.

The only place that builds objects; each feature package gets its collaborators through
constructors. Three groups are wired here: ARI routing (REST), the event pipeline (bus → apps'
websockets) and node failover.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.middleware import Middleware

from ariscale_common import Health, configure_logging
from ariscale_common.ari import AriError
from ariscale_common.background import BackgroundTask
from ariscale_common.health import health_router, probe_forever
from ariscale_common.keyspace import Keyspace
from ariscale_common.service_app import create_service_app
from gateway import metrics
from gateway.api import ari, docs, events
from gateway.api.fast_path import AriFastPath
from gateway.auth import Authenticator
from gateway.bridging.cross_node import CrossNodeBridges
from gateway.bridging.first_members import FirstMemberPlacement, PlacementStore
from gateway.bridging.legs import Linker, LinkStore
from gateway.bridging.members import BridgeMembers
from gateway.consul_watch import ConsulWatch
from gateway.events.bus_worker import BusWorker, follow_apps
from gateway.events.calls import CallIndex
from gateway.events.device_changes import heard_once
from gateway.events.dispatch import Dispatcher
from gateway.events.foreign_channels import ForeignChannels
from gateway.events.grace import GraceSweeper
from gateway.events.identity import ClusterIdentity
from gateway.events.instances import InstanceRegistry, Instances, process_gateway_id
from gateway.events.sequence import EventLog
from gateway.events.shares import OwnershipShares
from gateway.events.tracking import StasisTracker
from gateway.failover.detector import NodeFailover
from gateway.failover.incidents import Incidents
from gateway.failover.notifier import StandInNotifier
from gateway.locate import Locator
from gateway.nodes import NodeClients
from gateway.outages import install_outage_handlers
from gateway.ownership import OwnershipStore
from gateway.ownership_audit import OwnershipAudit
from gateway.redis_mux import MultiplexedRedis
from gateway.request_limits import RequestLimits
from gateway.routing.forwarding import AriGateway
from gateway.routing.moves import ChannelMoves
from gateway.routing.websocket_requests import WebsocketRequests
from gateway.settings import Settings


@dataclass
class Core:
    """What every feature of one gateway process shares: its identity, clients and stores."""

    settings: Settings
    gateway_id: str
    health: Health
    redis: Redis
    keys: Keyspace
    watch: ConsulWatch
    nodes: NodeClients
    ownership: OwnershipStore
    locator: Locator
    members: BridgeMembers
    linker: Linker
    bridges: CrossNodeBridges
    identity: ClusterIdentity
    standin: StandInNotifier  # events in a node's stead: failover and the ownership audit


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("gateway", settings.log.level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            core = await _start_core(settings, stack)
            app.state.settings = settings
            app.state.gateway_id = core.gateway_id
            app.state.health = core.health
            placing = FirstMemberPlacement(
                PlacementStore(core.redis, core.keys), core.ownership, core.nodes, core.linker
            )
            moves = ChannelMoves(core.ownership, core.nodes, lambda: core.watch.snapshot.apps)
            app.state.ari = AriGateway(
                core.ownership, core.locator, core.nodes, core.bridges, placing, core.identity, moves
            )
            app.state.ws_requests = WebsocketRequests(app.state.ari.handle, core.identity)
            app.state.authenticator = Authenticator(core.watch)
            app.state.instances, app.state.ownership_shares = await _start_event_pipeline(core, stack)
            metrics.install(app, core.linker, app.state.instances)
            audit = await _start_ownership_audit(core, stack)
            await _start_failover(core, stack, audit)
            yield

    app = create_service_app("ariscale gateway", "ARI for the whole cluster.", lifespan)
    app.add_middleware(metrics.RequestMetrics)
    app.add_middleware(RequestLimits)
    install_outage_handlers(app)
    app.include_router(health_router())
    app.include_router(events.router)
    app.include_router(docs.router)
    app.include_router(ari.build_router())  # the operations' OpenAPI, and what the fast path passes on
    # Innermost (add_middleware puts each new one outside): request ids, metrics, limits apply.
    app.user_middleware.append(Middleware(AriFastPath))
    return app


async def _start_core(settings: Settings, stack: AsyncExitStack) -> Core:
    """Clients (Redis, Consul, nodes' ARI) and the stores every feature reads; closed by ``stack``."""
    checker = Health("gateway")
    redis = settings.redis.client(MultiplexedRedis)
    stack.push_async_callback(redis.aclose)
    redis_probe = BackgroundTask("redis-health", lambda: probe_forever(checker, "redis", redis.ping))
    redis_probe.start()
    stack.push_async_callback(redis_probe.stop)
    watch = ConsulWatch(settings.consul.url, settings.consul.kv_prefix, checker)
    await watch.start()
    stack.push_async_callback(watch.stop)
    nodes = NodeClients(watch, settings.ari.user, settings.ari.password, settings.node_timeout_seconds)
    stack.push_async_callback(nodes.aclose)
    keys = Keyspace(settings.redis.key_prefix)
    ownership = OwnershipStore(redis, keys)
    members = BridgeMembers(redis, keys)
    linker = Linker(LinkStore(redis, keys), nodes)
    locator = Locator(ownership, nodes)
    bridges = CrossNodeBridges(linker, locator, nodes, members, ownership)
    gateway_id = process_gateway_id(settings.gateway_id)
    identity = ClusterIdentity(settings.entity_id, settings.system_name)
    standin = StandInNotifier(settings.amqp.url, gateway_id)
    stack.push_async_callback(standin.close)
    return Core(
        settings,
        gateway_id,
        checker,
        redis,
        keys,
        watch,
        nodes,
        ownership,
        locator,
        members,
        linker,
        bridges,
        identity,
        standin,
    )


async def _start_event_pipeline(core: Core, stack: AsyncExitStack) -> tuple[Instances, OwnershipShares]:
    """Bus worker (thread) → tracker (this gateway's share of the nodes) → dispatcher → websocket
    instances, and the grace sweeper."""
    settings = core.settings
    registry = InstanceRegistry(core.redis, core.keys, settings.instance_ttl_seconds)
    calls = CallIndex(core.redis, core.keys)
    events = EventLog(core.redis, core.keys, keep=settings.event_replay_size)
    instances = Instances(
        registry,
        core.gateway_id,
        core.health,
        heartbeat=settings.instance_heartbeat_seconds,
        send_timeout=settings.event_send_timeout_seconds,
        queue_size=settings.event_queue_size,
        events=events,
    )

    foreign = ForeignChannels(core.ownership, lambda: core.watch.snapshot.apps)

    async def app_view(app: str, node: str | None, event: dict[str, Any]) -> dict[str, Any] | None:
        """What the app sees of an event: no link machinery, only its channels, each change once,
        the cluster's identity."""
        if not heard_once(event, node, core.nodes.healthy()):
            return None
        seen = await core.bridges.app_view(event)
        seen = await foreign.view(app, seen) if seen is not None else None
        return core.identity.event(seen) if seen is not None else None

    dispatcher = Dispatcher(events, instances, view=app_view)
    tracker = StasisTracker(core.ownership, core.members, member_left=core.linker.unlink_if_unused)
    worker = BusWorker(
        settings.amqp.url,
        core.gateway_id,
        asyncio.get_running_loop(),
        core.health,
        track=tracker.handle,
        dispatch=dispatcher.dispatch_many,
        deliver=dispatcher.deliver,
    )
    # The worker consumes an app's queue only while this gateway has websockets of the app.
    instances.follow(
        on_first=worker.dispatch_app, on_last=worker.stop_dispatching, queue_ready=worker.app_queue_ready
    )
    sweeper = GraceSweeper(
        core.redis,
        core.keys,
        calls,
        registry,
        core.ownership,
        hang_up=lambda node, channel: _hang_up(core.nodes, node, channel),
        grace=settings.hangup_grace_seconds,
    )
    # Each gateway consumes the ownership queues of its share of the nodes.
    shares = OwnershipShares(
        core.redis,
        core.keys,
        core.gateway_id,
        nodes=lambda: core.watch.snapshot.nodes.keys(),
        take=worker.track_nodes,
        heartbeat=settings.instance_heartbeat_seconds,
        ttl=settings.instance_ttl_seconds,
    )
    following = BackgroundTask("follow-apps", lambda: follow_apps(worker, core.watch))
    worker.start()
    stack.push_async_callback(worker.stop)
    shares.start()
    stack.push_async_callback(shares.stop)
    instances.start()
    stack.push_async_callback(instances.stop)
    for task in (sweeper.task, following):
        task.start()
        stack.push_async_callback(task.stop)
    return instances, shares


async def _start_ownership_audit(core: Core, stack: AsyncExitStack) -> OwnershipAudit:
    interval = core.settings.ownership_audit_seconds
    audit = OwnershipAudit(core.ownership, core.nodes, core.standin, interval)
    audit.task.start()
    stack.push_async_callback(audit.task.stop)
    return audit


async def _start_failover(core: Core, stack: AsyncExitStack, audit: OwnershipAudit) -> None:
    failover = NodeFailover(
        core.watch,
        core.nodes,
        Incidents(core.redis, core.keys, core.gateway_id),
        core.ownership,
        core.linker,
        core.members,
        core.standin,
        on_restart=audit.restarted,
    )
    failover.start()
    stack.push_async_callback(failover.stop)


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
