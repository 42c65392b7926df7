"""Per-node figures from a real Asterisk: which apps it serves, its channels and bridges."""

import httpx

from ariscale_cluster import ClusterSpec
from tests.integration.registry.conftest import ConsulNodes
from tests.support.ari import StasisWatcher


async def test_app_state_and_live_counts_come_from_the_node(
    client: httpx.AsyncClient,
    consul_nodes: ConsulNodes,
    node_id: str,
    app_name: str,
    asterisk_ari: str,
    servers_spec: ClusterSpec,
) -> None:
    auth = (servers_spec.ari_user, servers_spec.ari_password)
    await consul_nodes.register(node_id, servers_spec.nodes[0].sip_address, ari_url=asterisk_ari)
    await client.post("/apps", json={"name": app_name})

    def mine(listing: list[dict[str, object]], key: str) -> dict[str, object]:
        return next(n for n in listing if n[key] == node_id)

    state = mine((await client.get(f"/apps/{app_name}")).json()["nodes"], "node_id")
    assert state == {"node_id": node_id, "subscribed": False, "error": None}

    async with StasisWatcher({node_id: asterisk_ari}, *auth, app=app_name).running():
        state = mine((await client.get(f"/apps/{app_name}")).json()["nodes"], "node_id")
        assert state["subscribed"] is True

        async with httpx.AsyncClient(base_url=asterisk_ari, auth=auth, timeout=5) as ari:
            bridge = (await ari.post("/bridges", params={"type": "mixing"})).json()
            try:
                node = mine((await client.get("/nodes")).json()["data"], "id")
                assert app_name in node["apps"]  # type: ignore[operator]
                assert node["bridges"] == 1 and node["channels"] == 0
                assert node["health"] == "passing" and node["ari_url"] == asterisk_ari
            finally:
                await ari.delete(f"/bridges/{bridge['id']}")
