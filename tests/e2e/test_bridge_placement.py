"""A bridge lives with its first members: members sharing a node never need a link leg (real calls)."""

import asyncio
from typing import Any

import httpx

from tests.support.ari import AppEvents
from tests.support.bridges import (
    add_channels,
    bridge_members,
    home_of,
    legs_per_node,
    new_bridge,
    no_legs,
)
from tests.support.callers import Callers, node_of


async def test_the_seeds_flow_puts_each_bridge_with_its_caller_on_both_nodes(
    gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], app_events: AppEvents, app_callers: Callers
) -> None:
    by_node: dict[str, list[dict[str, Any]]] = {}
    for channel in await app_callers.call(4):  # consecutive calls alternate between the nodes
        by_node.setdefault(node_of(channel["id"]), []).append(channel)
    assert sorted(len(pair) for pair in by_node.values()) == [2, 2]
    for node, (caller, second) in sorted(by_node.items()):
        # The seed's flow: the bridge is made on StasisStart, before it has a member...
        bridge_id = await new_bridge(gw, type="mixing", name="conf")
        # ...then the caller is added: the bridge follows it.
        await add_channels(gw, bridge_id, caller["id"])
        assert await home_of(nodes, bridge_id) == node
        await add_channels(gw, bridge_id, second["id"])
        assert await no_legs(nodes), "members on one node: no link leg"
        bridge = (await gw.get(f"/bridges/{bridge_id}")).json()
        assert sorted(bridge["channels"]) == sorted([caller["id"], second["id"]])
        assert (bridge["name"], bridge["bridge_type"]) == ("conf", "mixing"), "same bridge, moved"
        # The move is invisible: the app saw no bridge destroyed before it destroyed it itself.
        assert not [e for e in app_events.of_type("BridgeDestroyed") if e["bridge"]["id"] == bridge_id]
        assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204


async def test_concurrent_first_members_on_both_nodes_share_one_bridge(
    gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], app_callers: Callers
) -> None:
    channels = await app_callers.call(4)
    bridge_id = await new_bridge(gw)
    answers = await asyncio.gather(
        *(gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": c["id"]}) for c in channels)
    )
    assert [a.status_code for a in answers] == [204] * 4, [a.text for a in answers]
    assert await bridge_members(gw, bridge_id) == sorted(c["id"] for c in channels)
    assert await legs_per_node(nodes) == {"n1": 1, "n2": 1}, "one bridge, one leg to the other node"
    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204


async def test_a_bridge_the_app_has_used_does_not_move(
    gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], app_callers: Callers
) -> None:
    first, second = await app_callers.call(2)
    bridge_id = await new_bridge(gw)
    await add_channels(gw, bridge_id, first["id"])
    assert (
        await gw.post(f"/bridges/{bridge_id}/removeChannel", params={"channel": first["id"]})
    ).status_code == 204
    # Empty again, but the app knows it (it is subscribed): it stays where it is.
    await add_channels(gw, bridge_id, second["id"])
    assert await home_of(nodes, bridge_id) == node_of(first["id"])
    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204
