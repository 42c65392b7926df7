"""Gateways split the tracking of the nodes' ownership changes between them, and one takes over
the nodes of another that stops, and of a node that left Consul (real RabbitMQ, Redis and Consul;
nodes registered in Consul, no Asterisk behind them)."""

import contextlib

import redis.asyncio as aioredis

from ariscale_common.keyspace import Keyspace
from gateway.ownership import Kind, Owner, OwnershipStore
from tests.integration.gateway.conftest import EVENTS_REDIS_URL, NewApp, StartGateway
from tests.integration.gateway.events_harness import BusPublisher, GatewayServer, call_events
from tests.integration.gateway.fake_nodes import FakeNode, closed_port, registered
from tests.support.waiting import until

NODES = 20  # so that a random split leaves neither gateway without a node (odds 2 in a million)


def share(gateway: GatewayServer, nodes: set[str]) -> set[str]:
    return set(gateway.app.state.ownership_shares.share) & nodes


async def test_two_gateways_share_the_nodes_and_one_takes_them_all_when_the_other_stops(
    start_gateway: StartGateway,
    events_app: NewApp,
    bus_publisher: BusPublisher,
    events_consul_url: str,
    events_redis_prefix: str,
) -> None:
    app, _ = events_app()
    fakes = [FakeNode(events_consul_url, closed_port()) for _ in range(NODES)]
    nodes = {f.node_id for f in fakes}
    leaving = fakes[0]  # its agent stops (deregisters) before its call's last event comes
    with contextlib.ExitStack() as stack:
        for fake in fakes[1:]:
            stack.enter_context(registered(fake))
        leaving.register()
        first, second = await start_gateway("g1"), await start_gateway("g2")

        def split() -> bool:
            one, two = share(first, nodes), share(second, nodes)
            return bool(one) and bool(two) and not one & two and one | two == nodes

        await until(split, message=lambda: f"shares {share(first, nodes)} and {share(second, nodes)}")
        async with aioredis.Redis.from_url(EVENTS_REDIS_URL) as client:
            ownership = OwnershipStore(client, Keyspace(events_redis_prefix))
            calls = {node: call_events(app, f"{node}-1700000000.1") for node in sorted(nodes)}

            async def owned(node: str) -> Owner | None:
                return await ownership.get(Kind.CHANNEL, calls[node][0]["channel"]["id"])

            for node, events in calls.items():
                await bus_publisher.publish(app, node, events[0])  # StasisStart

            async def all_owned() -> bool:
                return all([await owned(n) == Owner(node=n, app=app) for n in nodes])

            await until(all_owned, message="every node's channel recorded (each by its gateway)")

            leaving.deregister()
            await second.stop_async()
            await until(lambda: share(first, nodes) == nodes, message="g1 takes every node")
            for node, events in calls.items():
                await bus_publisher.publish(app, node, events[-1])  # ChannelDestroyed

            async def none_owned() -> bool:
                return all([await owned(n) is None for n in nodes])

            await until(none_owned, message="every node's channel forgotten, by the gateway left")
