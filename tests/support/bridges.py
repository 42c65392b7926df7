"""Bridges through the gateway and what the nodes hold for them (link legs, homes, leftovers)."""

import uuid

import httpx

from ariscale_common.dialplan import LINK_APP
from tests.support.waiting import until


async def new_bridge(gw: httpx.AsyncClient, prefix: str = "conf", **params: str) -> str:
    """Create a bridge with a fresh id through the gateway; return its id."""
    bridge_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
    response = await gw.post(f"/bridges/{bridge_id}", params=params)
    assert response.status_code == 200, response.text
    return bridge_id


async def add_channels(gw: httpx.AsyncClient, bridge_id: str, *channel_ids: str) -> None:
    """Add each channel to the bridge, one request each, as an app would."""
    for channel_id in channel_ids:
        added = await gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": channel_id})
        assert added.status_code == 204, added.text


async def bridge_members(gw: httpx.AsyncClient, bridge_id: str) -> list[str]:
    """The bridge's channel ids, sorted, as the gateway shows them."""
    return sorted((await gw.get(f"/bridges/{bridge_id}")).json()["channels"])


async def leg_channels(client: httpx.AsyncClient) -> list[str]:
    """The link-leg channels (either end) one node holds."""
    channels = (await client.get("/channels")).json()
    return [c["id"] for c in channels if str(c["dialplan"].get("app_data", "")).startswith(LINK_APP)]


async def legs_per_node(nodes: dict[str, httpx.AsyncClient]) -> dict[str, int]:
    """How many link-leg channels each node holds (either end)."""
    return {node: len(await leg_channels(client)) for node, client in nodes.items()}


async def no_legs(nodes: dict[str, httpx.AsyncClient]) -> bool:
    """Whether no node holds a link leg."""
    return set((await legs_per_node(nodes)).values()) == {0}


async def home_of(nodes: dict[str, httpx.AsyncClient], bridge_id: str) -> str:
    """The node that holds the bridge itself."""
    for node, client in nodes.items():
        if (await client.get(f"/bridges/{bridge_id}")).status_code == 200:
            return node
    raise AssertionError(f"bridge {bridge_id} is on no node")


async def nodes_empty(nodes: dict[str, httpx.AsyncClient]) -> bool:
    """Whether no node holds a channel or a bridge."""
    for client in nodes.values():
        if (await client.get("/channels")).json() or (await client.get("/bridges")).json():
            return False
    return True


async def until_nodes_empty(nodes: dict[str, httpx.AsyncClient]) -> None:
    """Wait until every node has let go of every channel and bridge."""
    await until(lambda: nodes_empty(nodes), message="no channel and no bridge left on any node")
