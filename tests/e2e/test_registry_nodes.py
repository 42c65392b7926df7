"""Apps registered once are served everywhere; the SIP edge follows the healthy, undrained nodes."""

import time
from functools import partial

import httpx

from ariscale_cluster import Cluster
from ariscale_common.bus import app_binding, stasis_routing_key
from tests.e2e.conftest import RegisteredApp
from tests.support.answering import answering_from_bus
from tests.support.gateway import sees_nodes
from tests.support.node_agent import forgotten, served
from tests.support.sip_edge import calls_per_node, dispatch_set, health_is, node_health
from tests.support.sipp import place_calls
from tests.support.stasis_bus import BusTap
from tests.support.waiting import until


async def test_app_registered_once_is_served_by_every_node(
    cluster: Cluster, registry: httpx.AsyncClient, app_name: str, extension: str,
    node_aris: dict[str, str], ari_auth: tuple[str, str],
) -> None:  # fmt: skip
    with BusTap(cluster.spec.amqp_url, [app_binding(app_name)]).running() as tap:
        started = time.monotonic()
        created = await registry.post("/apps", json={"name": app_name, "extensions": [extension]})
        assert created.status_code == 201, created.text
        for node_id, ari_url in node_aris.items():
            # Served within ~2 s on a quiet machine; the bound leaves room for a loaded one.
            left = max(10.0 - (time.monotonic() - started), 0.0)
            await until(partial(served, ari_url, ari_auth, app_name, extension), timeout=left, interval=0.05,
                        message=f"{app_name} served by {node_id}")  # fmt: skip
        detail = (await registry.get(f"/apps/{app_name}")).json()
        assert detail["name"] == app_name

        async with answering_from_bus(tap, node_aris, ari_auth):
            result = await place_calls(
                f"127.0.0.1:{cluster.spec.sip_edge_port}", extension, calls=2, hold_ms=200
            )
            await until(lambda: len(tap.events("StasisEnd")) == 2, message="2 calls ended")
        assert result.successful == 2
        for start in tap.events("StasisStart"):
            assert start.routing_key == stasis_routing_key(app_name, start.node_id, "StasisStart")

        assert (await registry.delete(f"/apps/{app_name}")).status_code == 204
        for ari_url in node_aris.values():
            await until(partial(forgotten, ari_url, ari_auth, app_name, extension), message="app forgotten")
        refused = await place_calls(f"127.0.0.1:{cluster.spec.sip_edge_port}", extension, calls=2,
                                    scenario="uac_rejected.xml", timeout=20)  # fmt: skip
        assert refused.successful == 2, refused.output[-2000:]


async def test_killed_node_goes_critical_gets_no_calls_and_comes_back(
    cluster: Cluster, registry: httpx.AsyncClient, registered_app: RegisteredApp, ari_auth: tuple[str, str],
    gateway_url: str,
) -> None:  # fmt: skip
    """``registered_app`` is served by every node before the test starts."""
    n2 = cluster.spec.nodes[1]
    try:
        cluster.procs.kill("asterisk-n2")
        await until(
            lambda: health_is(registry, "n2", "critical"), timeout=20, message="n2 critical in /nodes"
        )
        await until(lambda: sees_nodes(gateway_url, {"n1": "up", "n2": "down"}),
                    message="the gateway's /health shows n2 down")  # fmt: skip
        await until(lambda: dispatch_set(cluster) == {cluster.spec.nodes[0].sip_address}, timeout=15,
                    message="the edge stops sending calls to n2")  # fmt: skip
        assert await calls_per_node(cluster, registered_app.name, registered_app.extension, 6) == {"n1": 6}
    finally:
        cluster.up()  # restarts the dead Asterisk only; the agent is left alone
    await until(lambda: health_is(registry, "n2", "passing"), timeout=20, message="n2 passing again")
    await until(partial(served, n2.ari_url, ari_auth, registered_app.name, registered_app.extension),
                message="n2 serves the app again")  # fmt: skip
    await until(
        lambda: len(dispatch_set(cluster)) == 2, timeout=15, message="the edge sends calls to n2 again"
    )
    assert set(await calls_per_node(cluster, registered_app.name, registered_app.extension, 6)) == {
        "n1",
        "n2",
    }


async def test_drained_node_gets_no_new_calls(
    cluster: Cluster, registry: httpx.AsyncClient, registered_app: RegisteredApp, gateway_url: str
) -> None:
    drained = await registry.post("/nodes/n1/drain")
    assert drained.status_code == 200 and drained.json()["drained"] is True
    try:
        await until(lambda: dispatch_set(cluster) == {cluster.spec.nodes[1].sip_address}, timeout=15,
                    message="the edge follows the drain")  # fmt: skip
        assert await calls_per_node(cluster, registered_app.name, registered_app.extension, 20) == {"n2": 20}
        await until(lambda: sees_nodes(gateway_url, {"n1": "drained", "n2": "up"}),
                    message="the gateway's /health shows n1 drained")  # fmt: skip
    finally:
        assert (await registry.delete("/nodes/n1/drain")).status_code == 200
    await until(lambda: len(dispatch_set(cluster)) == 2, timeout=15, message="n1 back in the dispatch set")
    assert (await node_health(registry))["n1"] == ("passing", False)
    await until(lambda: sees_nodes(gateway_url, {"n1": "up", "n2": "up"}),
                message="the gateway's /health shows n1 up again")  # fmt: skip


async def test_agent_stopped_cleanly_deregisters_its_node_and_comes_back(
    cluster: Cluster, registry: httpx.AsyncClient
) -> None:
    try:
        cluster.procs.stop("agent-n2")  # SIGTERM: a clean shutdown
        await until(lambda: _listed(registry, "n2", False), timeout=20, message="n2 gone from /nodes")
        await until(lambda: dispatch_set(cluster) == {cluster.spec.nodes[0].sip_address}, timeout=15,
                    message="no new calls for a node without its agent")  # fmt: skip
    finally:
        cluster.up()
    await until(lambda: health_is(registry, "n2", "passing"), timeout=30, message="n2 registered again")
    await until(lambda: len(dispatch_set(cluster)) == 2, timeout=15, message="n2 back in the dispatch set")


async def _listed(registry: httpx.AsyncClient, node: str, present: bool) -> bool:
    return (node in await node_health(registry)) == present
