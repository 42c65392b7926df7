"""``/dashboard``: the page is open, its data is the admin's; snapshots over a real Consul."""

import httpx

from tests.integration.registry.conftest import ConsulNodes, Registry


async def test_the_page_is_served_and_its_data_needs_the_admin_token(registry: Registry) -> None:
    async with httpx.AsyncClient(
        transport=registry.client._transport, base_url="http://registry"
    ) as anonymous:
        page = await anonymous.get("/dashboard")
        assert page.status_code == 200 and "<script>" in page.text and "sessionStorage" in page.text
        assert (await anonymous.get("/dashboard/snapshot")).status_code == 401
        assert (await anonymous.get("/dashboard/stream")).status_code == 401
        wrong = await anonymous.get("/dashboard/stream", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403 and wrong.json()["error"]


async def test_snapshot_lists_nodes_apps_and_no_charts_without_prometheus(
    client: httpx.AsyncClient, consul_nodes: ConsulNodes, node_id: str, app_name: str, extension: str
) -> None:
    await consul_nodes.register(node_id, "127.0.0.1:5061")
    assert (await client.post("/apps", json={"name": app_name, "extensions": [extension]})).status_code == 201
    assert (await client.post(f"/nodes/{node_id}/drain")).status_code == 200

    snapshot = (await client.get("/dashboard/snapshot")).json()

    node = next(n for n in snapshot["nodes"] if n["id"] == node_id)
    # nothing answers ARI on the registered address: its load is unknown, not zero
    assert (node["health"], node["drained"], node["channels"]) == ("passing", True, None)
    app = next(a for a in snapshot["apps"] if a["name"] == app_name)
    assert (app["extensions"], app["calls"], app["consumers"]) == ([extension], 0, 0)
    assert snapshot["charts"] == {}
