"""A node that Consul calls healthy but whose ARI refuses a connection keeps its resources: the app
gets a 503 naming the node and retries; only a node seen dead makes them gone (real Consul, Redis).

Forgetting a live channel is for good (its later events no longer record it), so a connection
that failed once (reset, refused while Asterisk restarts) must not be taken for a death.
"""

import socket
import uuid
from collections.abc import Iterator

import consul
import httpx
import pytest
import redis.asyncio as aioredis

from ariscale_common.discovery import NODE_SERVICE, NodeMeta
from ariscale_common.keyspace import Keyspace
from gateway.ownership import Kind, Owner, OwnershipStore
from tests.integration.gateway.conftest import EVENTS_REDIS_URL, NewApp, StartGateway
from tests.support.waiting import until


def closed_port() -> int:
    """A local port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeNode:
    """A node registered in Consul as an agent would, its check passed or failed by the test."""

    def __init__(self, consul_url: str) -> None:
        host, port = consul_url.removeprefix("http://").split(":")
        self._consul = consul.Consul(host=host, port=int(port))
        self.node_id = f"nu{uuid.uuid4().hex[:6]}"
        self._check = f"service:{self.node_id}"

    def register(self) -> None:
        meta = NodeMeta(ari_url=f"http://127.0.0.1:{closed_port()}/ari", sip_address="127.0.0.1:5060")
        check = {**consul.Check.ttl("60s"), "CheckID": self._check, "Name": "ARI answers"}
        self._consul.agent.service.register(
            NODE_SERVICE, service_id=self.node_id, meta=meta.model_dump(), check=check
        )
        self._consul.agent.check.ttl_pass(self._check)

    def fail(self) -> None:
        self._consul.agent.check.ttl_fail(self._check, "ARI does not answer")

    def deregister(self) -> None:
        self._consul.agent.service.deregister(self.node_id)


@pytest.fixture
def fake_node(events_consul_url: str) -> Iterator[FakeNode]:
    node = FakeNode(events_consul_url)
    node.register()
    yield node
    node.deregister()


async def test_a_healthy_node_that_refuses_a_connection_keeps_its_channel(
    start_gateway: StartGateway, events_app: NewApp, fake_node: FakeNode, events_redis_prefix: str
) -> None:
    app, password = events_app()
    channel = f"{fake_node.node_id}-1700000000.1"
    owner = Owner(node=fake_node.node_id, app=app)
    async with aioredis.Redis.from_url(EVENTS_REDIS_URL) as client:
        ownership = OwnershipStore(client, Keyspace(events_redis_prefix))
        await ownership.set(Kind.CHANNEL, channel, owner)
        gateway = await start_gateway("g1")  # it reads Consul before serving: the node is healthy
        async with httpx.AsyncClient(base_url=gateway.url, auth=(app, password), timeout=10) as http:
            refused = await http.get(f"/ari/channels/{channel}")
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"] == "node-unavailable", refused.text
            assert await ownership.get(Kind.CHANNEL, channel) == owner

            fake_node.fail()  # now the node is dead for the cluster, and so is its channel

            async def not_found() -> bool:
                return (await http.get(f"/ari/channels/{channel}")).status_code == 404

            await until(not_found, message="404 once the node is critical")
        assert await ownership.get(Kind.CHANNEL, channel) is None
