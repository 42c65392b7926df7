"""The SIP edge from a test's side: which nodes it dispatches to, where calls land, node health."""

from collections import Counter

import httpx

from ariscale_cluster import Cluster, kamailio
from ariscale_common.bus import app_binding
from tests.support.answering import answering_from_bus
from tests.support.sipp import place_calls
from tests.support.stasis_bus import BusTap
from tests.support.waiting import until


async def node_health(registry: httpx.AsyncClient) -> dict[str, tuple[str, bool]]:
    nodes = (await registry.get("/nodes")).json()["data"]
    return {n["id"]: (n["health"], n["drained"]) for n in nodes}


def dispatch_set(cluster: Cluster) -> set[str]:
    """The node SIP addresses Kamailio currently dispatches new calls to."""
    listing = kamailio.kamcmd(cluster.spec, "dispatcher.list").stdout
    return {node.sip_address for node in cluster.spec.nodes if f"sip:{node.sip_address}" in listing}


async def calls_per_node(cluster: Cluster, app: str, extension: str, calls: int) -> Counter[str]:
    """Place ``calls`` calls through the edge; count their StasisStart per node (from the bus)."""
    node_aris = {n.node_id: n.ari_url for n in cluster.spec.nodes}
    auth = (cluster.spec.ari_user, cluster.spec.ari_password)
    with BusTap(cluster.spec.amqp_url, [app_binding(app)]).running() as tap:
        async with answering_from_bus(tap, node_aris, auth):
            result = await place_calls(f"127.0.0.1:{cluster.spec.sip_edge_port}", extension, calls=calls,
                                       rate=20, hold_ms=200)  # fmt: skip
            assert result.successful == calls, result.output[-2000:]
            await until(
                lambda: len(tap.events("StasisEnd")) == calls, timeout=30, message=f"{calls} calls ended"
            )
    return Counter(start.node_id for start in tap.events("StasisStart"))


async def health_is(registry: httpx.AsyncClient, node: str, health: str) -> bool:
    return (await node_health(registry)).get(node, ("", False))[0] == health
