"""A bridge lives with its first members: members sharing a node never need a link leg (real calls)."""

import asyncio
import uuid
from typing import Any

import httpx

from tests.e2e.conftest import RegisteredApp
from tests.e2e.test_cross_node_bridges import home_of, legs_per_node, nodes_empty
from tests.support.ari import AppEvents
from tests.support.callers import callers, node_of
from tests.support.waiting import until


async def test_the_seeds_flow_puts_each_bridge_with_its_caller_on_both_nodes(
    gw: httpx.AsyncClient,
    nodes: dict[str, httpx.AsyncClient],
    sip_edge: str,
    registered_app: RegisteredApp,
    app_events: AppEvents,
) -> None:
    async with callers(gw, sip_edge, registered_app.extension) as group:
        by_node: dict[str, list[dict[str, Any]]] = {}
        for channel in await group.call(4):  # consecutive calls alternate between the nodes
            by_node.setdefault(node_of(channel["id"]), []).append(channel)
        assert sorted(len(pair) for pair in by_node.values()) == [2, 2]
        for node, (caller, second) in sorted(by_node.items()):
            # The seed's flow: the bridge is made on StasisStart, before it has a member...
            bridge_id = f"conf-{uuid.uuid4().hex[:8]}"
            created = await gw.post(f"/bridges/{bridge_id}", params={"type": "mixing", "name": "conf"})
            assert created.status_code == 200, created.text
            # ...then the caller is added: the bridge follows it.
            added = await gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": caller["id"]})
            assert added.status_code == 204, added.text
            assert await home_of(nodes, bridge_id) == node
            added = await gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": second["id"]})
            assert added.status_code == 204, added.text
            assert set((await legs_per_node(nodes)).values()) == {0}, "members on one node: no link leg"
            bridge = (await gw.get(f"/bridges/{bridge_id}")).json()
            assert sorted(bridge["channels"]) == sorted([caller["id"], second["id"]])
            assert (bridge["name"], bridge["bridge_type"]) == ("conf", "mixing"), "same bridge, moved"
            # The move is invisible: the app saw no bridge destroyed before it destroyed it itself.
            assert not [e for e in app_events.of_type("BridgeDestroyed") if e["bridge"]["id"] == bridge_id]
            assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204
    await until(lambda: nodes_empty(nodes), message="no channel and no bridge left on any node")


async def test_concurrent_first_members_on_both_nodes_share_one_bridge(
    gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], sip_edge: str, registered_app: RegisteredApp
) -> None:
    async with callers(gw, sip_edge, registered_app.extension) as group:
        channels = await group.call(4)
        bridge_id = f"conf-{uuid.uuid4().hex[:8]}"
        assert (await gw.post(f"/bridges/{bridge_id}")).status_code == 200
        answers = await asyncio.gather(
            *(gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": c["id"]}) for c in channels)
        )
        assert [a.status_code for a in answers] == [204] * 4, [a.text for a in answers]
        bridge = (await gw.get(f"/bridges/{bridge_id}")).json()
        assert sorted(bridge["channels"]) == sorted(c["id"] for c in channels)
        assert await legs_per_node(nodes) == {"n1": 1, "n2": 1}, "one bridge, one leg to the other node"
        assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204
    await until(lambda: nodes_empty(nodes), message="no channel and no bridge left on any node")


async def test_a_bridge_the_app_has_used_does_not_move(
    gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], sip_edge: str, registered_app: RegisteredApp
) -> None:
    async with callers(gw, sip_edge, registered_app.extension) as group:
        first, second = await group.call(2)
        bridge_id = f"conf-{uuid.uuid4().hex[:8]}"
        assert (await gw.post(f"/bridges/{bridge_id}")).status_code == 200
        assert (
            await gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": first["id"]})
        ).status_code == 204
        assert (
            await gw.post(f"/bridges/{bridge_id}/removeChannel", params={"channel": first["id"]})
        ).status_code == 204
        # Empty again, but the app knows it (it is subscribed): it stays where it is.
        assert (
            await gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": second["id"]})
        ).status_code == 204
        assert await home_of(nodes, bridge_id) == node_of(first["id"])
        assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204
    await until(lambda: nodes_empty(nodes), message="no channel and no bridge left on any node")
