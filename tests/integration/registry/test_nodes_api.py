"""``/nodes`` over a real Consul: nodes registered directly, as node agents would register them."""

import httpx

from tests.integration.registry.conftest import ConsulNodes, KvGet


def by_id(listing: dict[str, object], node_id: str) -> dict[str, object]:
    nodes = listing["data"]
    assert isinstance(nodes, list)
    return next(n for n in nodes if n["id"] == node_id)


async def test_nodes_lists_health_drain_and_unreachable_ari(
    client: httpx.AsyncClient, consul_nodes: ConsulNodes, node_id: str
) -> None:
    await consul_nodes.register(f"{node_id}-a", "127.0.0.1:5061")
    await consul_nodes.register(f"{node_id}-b", "127.0.0.1:5062", passing=False)

    listing = (await client.get("/nodes")).json()
    assert listing["count"] == len(listing["data"])
    a, b = by_id(listing, f"{node_id}-a"), by_id(listing, f"{node_id}-b")
    assert a["health"] == "passing" and b["health"] == "critical"
    assert a["drained"] is False
    assert a["sip_address"] == "127.0.0.1:5061" and a["asterisk_version"] == "22.10.1"
    # nothing answers ARI on port 9: the live figures are unknown, not zero
    assert (a["apps"], a["channels"], a["bridges"]) == (None, None, None)


async def test_drain_and_undrain(
    client: httpx.AsyncClient, consul_nodes: ConsulNodes, node_id: str, kv_get: KvGet
) -> None:
    await consul_nodes.register(node_id, "127.0.0.1:5061")

    drained = await client.post(f"/nodes/{node_id}/drain")
    assert drained.status_code == 200, drained.text
    assert drained.json()["drained"] is True
    assert await kv_get(f"drained/{node_id}") is not None
    assert by_id((await client.get("/nodes")).json(), node_id)["drained"] is True
    assert (await client.post(f"/nodes/{node_id}/drain")).json()["drained"] is True  # idempotent

    undrained = await client.delete(f"/nodes/{node_id}/drain")
    assert undrained.status_code == 200 and undrained.json()["drained"] is False
    assert await kv_get(f"drained/{node_id}") is None
    assert by_id((await client.get("/nodes")).json(), node_id)["drained"] is False


async def test_unknown_node_is_404(client: httpx.AsyncClient, node_id: str, kv_get: KvGet) -> None:
    for response in (
        await client.post(f"/nodes/{node_id}/drain"),
        await client.delete(f"/nodes/{node_id}/drain"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "node-not-found"
        assert response.json()["details"]["node_id"] == node_id
    assert await kv_get(f"drained/{node_id}") is None


async def test_app_state_per_node_is_unknown_when_its_ari_is_down(
    client: httpx.AsyncClient, consul_nodes: ConsulNodes, node_id: str, app_name: str
) -> None:
    await consul_nodes.register(node_id, "127.0.0.1:5061")
    await client.post("/apps", json={"name": app_name})
    nodes = (await client.get(f"/apps/{app_name}")).json()["nodes"]
    mine = next(n for n in nodes if n["node_id"] == node_id)
    assert mine["subscribed"] is None and mine["error"]
