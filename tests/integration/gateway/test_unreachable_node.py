"""A node that Consul calls healthy but whose connection breaks keeps its resources: the app gets
a 503 naming the node and asks again; a node seen dead, or refusing connections (its Asterisk is
not running), makes them gone (real Consul, Redis, and a node that drops every connection).

Forgetting a live channel is for good (its later events no longer record it), so a connection
that broke once must not be taken for a death.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import redis.asyncio as aioredis

from ariscale_common.keyspace import Keyspace
from gateway.ownership import Kind, Owner, OwnershipStore
from tests.integration.gateway.conftest import EVENTS_REDIS_URL, NewApp, StartGateway
from tests.integration.gateway.fake_nodes import FakeNode, closed_port, registered
from tests.support.waiting import until


@contextlib.asynccontextmanager
async def dropping_server() -> AsyncIterator[int]:
    """A port whose server accepts each connection and closes it without an answer."""

    async def drop(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def test_a_healthy_node_whose_connection_breaks_keeps_its_channel(
    start_gateway: StartGateway, events_app: NewApp, events_consul_url: str, events_redis_prefix: str
) -> None:
    app, password = events_app()
    async with dropping_server() as port, aioredis.Redis.from_url(EVENTS_REDIS_URL) as client:
        with registered(FakeNode(events_consul_url, port)) as node:
            channel = f"{node.node_id}-1700000000.1"
            owner = Owner(node=node.node_id, app=app)
            ownership = OwnershipStore(client, Keyspace(events_redis_prefix))
            await ownership.set(Kind.CHANNEL, channel, owner)
            gateway = await start_gateway("g1")  # it reads Consul before serving: the node is healthy
            async with httpx.AsyncClient(base_url=gateway.url, auth=(app, password), timeout=10) as http:
                broken = await http.get(f"/ari/channels/{channel}")
                assert broken.status_code == 503, broken.text
                assert broken.json()["error"] == "node-unavailable", broken.text
                assert await ownership.get(Kind.CHANNEL, channel) == owner

                node.fail()  # now the node is dead for the cluster, and so is its channel

                async def not_found() -> bool:
                    return (await http.get(f"/ari/channels/{channel}")).status_code == 404

                await until(not_found, message="404 once the node is critical")
            assert await ownership.get(Kind.CHANNEL, channel) is None


async def test_a_node_refusing_connections_has_lost_its_channel_at_once(
    start_gateway: StartGateway, events_app: NewApp, events_consul_url: str, events_redis_prefix: str
) -> None:
    app, password = events_app()
    async with aioredis.Redis.from_url(EVENTS_REDIS_URL) as client:
        with registered(FakeNode(events_consul_url, closed_port())) as node:
            channel = f"{node.node_id}-1700000000.2"
            ownership = OwnershipStore(client, Keyspace(events_redis_prefix))
            await ownership.set(Kind.CHANNEL, channel, Owner(node=node.node_id, app=app))
            gateway = await start_gateway("g1")
            async with httpx.AsyncClient(base_url=gateway.url, auth=(app, password), timeout=10) as http:
                gone = await http.get(f"/ari/channels/{channel}")  # Consul still calls the node healthy
            assert gone.status_code == 404, gone.text
            assert await ownership.get(Kind.CHANNEL, channel) is None
