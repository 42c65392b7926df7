"""The registry's ``/metrics`` over a real Consul and database; request ids on every answer."""

import httpx

from tests.integration.registry.conftest import ConsulNodes
from tests.support.prometheus_text import sample_value


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_apps_and_nodes_by_state(
    client: httpx.AsyncClient, consul_nodes: ConsulNodes, node_id: str, app_name: str, extension: str
) -> None:
    before = await scrape(client)
    apps_before = sample_value(before, "ariscale_registry_apps")
    assert apps_before is not None
    states = ("healthy", "critical", "drained")
    nodes_before = {s: sample_value(before, "ariscale_registry_nodes", state=s) or 0 for s in states}

    created = await client.post("/apps", json={"name": app_name, "extensions": [extension]})
    assert created.status_code == 201, created.text
    await consul_nodes.register(f"{node_id}-a", "127.0.0.1:5061")
    await consul_nodes.register(f"{node_id}-b", "127.0.0.1:5062", passing=False)
    await consul_nodes.register(f"{node_id}-c", "127.0.0.1:5063")
    assert (await client.post(f"/nodes/{node_id}-c/drain")).status_code == 200

    after = await scrape(client)
    assert sample_value(after, "ariscale_registry_apps") == apps_before + 1
    for state in states:
        assert sample_value(after, "ariscale_registry_nodes", state=state) == nodes_before[state] + 1, state
    await client.delete(f"/nodes/{node_id}-c/drain")


async def test_request_id_is_kept_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/apps", headers={"X-Request-Id": "op-42"})
    assert given.headers["x-request-id"] == "op-42"
    made = await client.get("/apps")
    assert len(made.headers["x-request-id"]) == 32
    hostile = await client.get("/apps", headers={"X-Request-Id": 'a b"<script>'})
    assert hostile.headers["x-request-id"] != 'a b"<script>'
