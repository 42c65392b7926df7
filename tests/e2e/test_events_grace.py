"""A call to an app with no connected instance is hung up after the grace period, not left ringing.

Runs on the session's real cluster, whose gateway is this checkout's. Until the node agents
publish events and register their nodes in Consul, the test stands in for them: it subscribes
the app on every node and publishes each event onto the bus exactly as ``ariscale_common.bus``
says, and registers the nodes in the cluster's Consul (and removes what it added).
"""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from functools import partial

import consul
import httpx
import pytest
import websockets

from ariscale_cluster import Cluster
from ariscale_common.dialplan import app_variable
from ariscale_common.discovery import NODE_SERVICE, NodeMeta
from tests.integration.gateway.events_harness import BusPublisher
from tests.support.ari import list_channels, set_global
from tests.support.sipp import place_calls
from tests.support.waiting import until

GRACE = 5.0  # the gateway's default hangup_grace_seconds


@pytest.fixture
def nodes_in_consul(cluster: Cluster) -> Iterator[None]:
    host, port = cluster.spec.consul_url.removeprefix("http://").split(":")
    client = consul.Consul(host=host, port=int(port))
    _, present = client.health.service(NODE_SERVICE)
    known = {entry["Service"]["ID"] for entry in present}
    added = []
    for node in cluster.spec.nodes:
        if node.node_id not in known:
            meta = NodeMeta(ari_url=node.ari_url, sip_address=node.sip_address)
            client.agent.service.register(NODE_SERVICE, service_id=node.node_id, meta=meta.model_dump())
            added.append(node.node_id)
    yield
    for node_id in added:
        client.agent.service.deregister(node_id)


def agents_publish(cluster: Cluster) -> bool:
    """True once the node agents publish events themselves (their /health lists an amqp link)."""
    for node in cluster.spec.nodes:
        try:
            links = httpx.get(f"http://127.0.0.1:{node.agent_port}/health", timeout=2).json().get("links", {})
        except (httpx.HTTPError, ValueError):
            return False
        if "amqp" not in links:
            return False
    return True


@contextlib.asynccontextmanager
async def events_onto_the_bus(cluster: Cluster, app: str, seen: list[str]) -> AsyncIterator[None]:
    """Stand in for the node agents when they do not publish yet; note every event type seen."""
    if agents_publish(cluster):
        yield
        return
    publisher = BusPublisher(cluster.spec.amqp_url)
    auth = httpx.BasicAuth(cluster.spec.ari_user, cluster.spec.ari_password)
    ready = asyncio.Event()
    connected: set[str] = set()

    async def relay(node_id: str, ari_url: str) -> None:
        url = ari_url.replace("http://", "ws://") + f"/events?app={app}"
        async with websockets.connect(url, additional_headers={"Authorization": auth._auth_header}) as ws:
            connected.add(node_id)
            if len(connected) == len(cluster.spec.nodes):
                ready.set()
            async for raw in ws:
                event = json.loads(raw)
                seen.append(event["type"])
                await asyncio.to_thread(publisher.publish_sync, app, node_id, event)

    tasks = [asyncio.create_task(relay(n.node_id, n.ari_url)) for n in cluster.spec.nodes]
    try:
        await asyncio.wait_for(ready.wait(), 10)
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        publisher.close()


async def _channels_everywhere(cluster: Cluster) -> int:
    auth = (cluster.spec.ari_user, cluster.spec.ari_password)
    return sum([len(await list_channels(node.ari_url, auth)) for node in cluster.spec.nodes])


async def _no_channels(cluster: Cluster) -> bool:
    return await _channels_everywhere(cluster) == 0


@pytest.mark.usefixtures("nodes_in_consul")
async def test_calls_of_an_app_nobody_listens_to_are_hung_up_after_grace(
    cluster: Cluster, sip_edge: str, app_name: str, extension: str
) -> None:
    auth = (cluster.spec.ari_user, cluster.spec.ari_password)
    for node in cluster.spec.nodes:
        await set_global(node.ari_url, auth, app_variable(extension), app_name)
    seen: list[str] = []
    async with events_onto_the_bus(cluster, app_name, seen):
        calls = asyncio.create_task(place_calls(sip_edge, extension, calls=4, rate=20, timeout=30))
        await until(partial(_four_in_stasis, cluster), timeout=10, message="4 calls in Stasis")
        entered = time.monotonic()
        await until(partial(_no_channels, cluster), timeout=GRACE + 10, message="every call hung up")
        waited = time.monotonic() - entered
        result = await calls
    # Not before the grace; soon after it (a sweep each second), long before sipp would give up.
    assert GRACE - 1.0 <= waited <= GRACE + 4.0, f"hung up after {waited:.1f} s; grace is {GRACE} s"
    assert result.successful == 0, result.output[-2000:]  # nobody answered: never connected
    assert seen.count("StasisStart") in (0, 4)  # 0: the real agents carried them


async def _four_in_stasis(cluster: Cluster) -> bool:
    return await _channels_everywhere(cluster) == 4
