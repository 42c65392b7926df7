"""A node of a cross-node bridge dies (``kill -9`` of its Asterisk): the app's bridge lives on.

* A member node dies: its members leave the bridge as the app sees it (``ChannelLeftBridge``
  with the app's bridge id, then ``StasisEnd``), the bridge lists only the survivors and the home
  node holds no leg for it.
* The home node dies: the bridge is re-homed on the surviving node with members, under the same
  id, listing the surviving members, with no leg nor local bridge left over.

Each test restores the killed node (``cluster.up()``) and checks every node is empty at the end.
"""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from ariscale_cluster import Cluster
from ariscale_common.dialplan import RESERVED_PREFIX
from tests.e2e.conftest import RegisteredApp
from tests.support.ari import AppEvents
from tests.support.bridges import home_of, legs_per_node, new_bridge
from tests.support.callers import Callers, callers, node_of
from tests.support.waiting import until

HOLD_MS = 20_000  # the dead node's callers hear nothing more: they hang up after this
ENDING_ORDER = ("ChannelLeftBridge", "StasisEnd", "ChannelDestroyed")  # Asterisk's, on a hang-up
DETECTION_S = 10  # Consul check (1 s heartbeat) + gateway snapshot (1 s) + failover, with room


async def test_member_node_killed_its_members_leave_the_bridge(
    cluster: Cluster, gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], app_events: AppEvents,
    sip_edge: str, registered_app: RegisteredApp,
) -> None:  # fmt: skip
    async with bridged_callers(cluster, gw, nodes, sip_edge, registered_app.extension) as split:
        group, bridge_id, home, member_node = split.group, split.bridge_id, split.home, split.other
        dead, survivors = split.members[member_node], split.members[home]
        # Two more calls, in no bridge (the edge alternates: one per node).
        lonely = [c["id"] for c in await group.call(2, hold_ms=HOLD_MS) if node_of(c["id"]) == member_node]
        await kill_and_see_members_leave(cluster, member_node, app_events, bridge_id, dead)
        await until(lambda: ended(app_events, lonely), timeout=DETECTION_S,
                    message=f"the app told that {lonely}, in no bridge, ended with the node")  # fmt: skip
        assert not left_events(app_events, bridge_id, survivors), "survivors stay in the bridge"
        assert sorted((await gw.get(f"/bridges/{bridge_id}")).json()["channels"]) == survivors
        survivor_aris = {home: nodes[home]}
        await until(lambda: no_legs(survivor_aris), message=f"no link leg left on home node {home}")
        assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204
        for channel_id in ids_on(group, home):  # the survivors, and the lonely call there
            await group.hang_up(channel_id)
        await until(lambda: empty(survivor_aris), message=f"home node {home} empty")
    await until(lambda: empty(nodes), timeout=30, message="every node empty, the restored one too")


async def test_home_node_killed_the_bridge_moves_to_a_survivor_under_the_same_id(
    cluster: Cluster, gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], app_events: AppEvents,
    sip_edge: str, registered_app: RegisteredApp,
) -> None:  # fmt: skip
    async with bridged_callers(cluster, gw, nodes, sip_edge, registered_app.extension) as split:
        bridge_id, home, survivor = split.bridge_id, split.home, split.other
        await kill_and_see_members_leave(cluster, home, app_events, bridge_id, split.members[home])
        survivors = split.members[survivor]

        async def rehomed() -> bool:
            answer = await gw.get(f"/bridges/{bridge_id}")
            return answer.status_code == 200 and sorted(answer.json()["channels"]) == survivors

        await until(rehomed, timeout=DETECTION_S, message=f"bridge {bridge_id} re-homed with {survivors}")
        own = (await nodes[survivor].get(f"/bridges/{bridge_id}")).json()
        assert sorted(own["channels"]) == survivors, "the members sit in the bridge itself, no leg"
        assert [b["id"] for b in (await nodes[survivor].get("/bridges")).json()] == [bridge_id]
        assert await legs_per_node({survivor: nodes[survivor]}) == {survivor: 0}
        assert [b["id"] for b in (await gw.get("/bridges")).json()] == [bridge_id]

        assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204
        for channel_id in survivors:
            await split.group.hang_up(channel_id)
        await until(lambda: empty({survivor: nodes[survivor]}), message=f"node {survivor} empty")
        # Each node's events reach the app in order: the moves would have come before these.
        await until(lambda: told_left(app_events, bridge_id, survivors, ("StasisEnd",)),
                    message="the survivors' hang-ups reached the app")  # fmt: skip
        for kind in ("ChannelEnteredBridge", "ChannelLeftBridge"):
            seen = sorted(e["channel"]["id"] for e in app_events.of_type(kind))
            assert [c for c in seen if c in survivors] == survivors, (
                f"the re-homing's moves are hidden: {kind}"
            )
    await until(lambda: empty(nodes), timeout=30, message="every node empty, the restored one too")


# -- helpers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitBridge:
    """One bridge with callers on both nodes: its home node, the other node, who sits where."""

    group: Callers
    bridge_id: str
    home: str
    other: str
    members: dict[str, list[str]]  # node -> its callers in the bridge, sorted


@contextlib.asynccontextmanager
async def bridged_callers(
    cluster: Cluster,
    gw: httpx.AsyncClient,
    nodes: dict[str, httpx.AsyncClient],
    sip_edge: str,
    extension: str,
) -> AsyncIterator[SplitBridge]:
    """Four callers in one bridge over both nodes; whatever the test kills is restored after."""
    async with callers(gw, sip_edge, extension) as group:
        bridge_id, home = await bridge_on_both_nodes(gw, nodes, group)
        try:
            other = next(n for n in nodes if n != home)
            members = {node: ids_on(group, node) for node in (home, other)}
            yield SplitBridge(group, bridge_id, home, other, members)
        finally:
            cluster.up()


async def bridge_on_both_nodes(
    gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], group: Callers
) -> tuple[str, str]:
    """Four callers (two per node: the edge alternates) in one new bridge; (bridge id, its home)."""
    channels = await group.call(4, hold_ms=HOLD_MS)
    assert {node_of(c["id"]) for c in channels} == set(nodes)
    bridge_id = await new_bridge(gw, type="mixing")
    ids = ",".join(c["id"] for c in channels)
    assert (await gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": ids})).status_code == 204
    assert await legs_per_node(nodes) == dict.fromkeys(nodes, 1)
    return bridge_id, await home_of(nodes, bridge_id)


async def kill_and_see_members_leave(
    cluster: Cluster, node: str, events: AppEvents, bridge_id: str, dead: list[str]
) -> None:
    """``kill -9`` the node's Asterisk; its members leave the app's bridge, then end, in order."""
    cluster.procs.kill(f"asterisk-{node}")
    await until(lambda: told_left(events, bridge_id, dead), timeout=DETECTION_S,
                message=f"the app told that {dead} left bridge {bridge_id}")  # fmt: skip
    assert_left_then_ended(events, bridge_id, dead)


def ended(events: AppEvents, channel_ids: list[str]) -> bool:
    """StasisEnd then ChannelDestroyed reached the app for each channel."""
    return all(
        set(channel_ids) <= {e["channel"]["id"] for e in events.of_type(kind)}
        for kind in ("StasisEnd", "ChannelDestroyed")
    )


def ids_on(group: Callers, node: str) -> list[str]:
    return sorted(c["id"] for c in group.channels if node_of(c["id"]) == node)


def left_events(events: AppEvents, bridge_id: str, channel_ids: list[str]) -> list[dict[str, Any]]:
    return [
        e
        for e in events.of_type("ChannelLeftBridge")
        if e["bridge"]["id"] == bridge_id and e["channel"]["id"] in channel_ids
    ]


def told_left(
    events: AppEvents, bridge_id: str, channel_ids: list[str], ending: tuple[str, ...] = ENDING_ORDER[1:]
) -> bool:
    """Each channel has left the app's bridge and ended (by default StasisEnd and ChannelDestroyed)."""
    left = {e["channel"]["id"] for e in left_events(events, bridge_id, channel_ids)}
    ended = [{e["channel"]["id"] for e in events.of_type(t)} for t in ending]
    return all(set(channel_ids) <= found for found in (left, *ended))


def assert_left_then_ended(events: AppEvents, bridge_id: str, channel_ids: list[str]) -> None:
    """In Asterisk's order, and with nothing of the link machinery in the bridge snapshots."""
    for channel_id in channel_ids:
        order = [position(events, kind, channel_id) for kind in ENDING_ORDER]
        assert order == sorted(order), f"{channel_id}: events out of order"
        for left in left_events(events, bridge_id, [channel_id]):
            assert not [c for c in left["bridge"]["channels"] if c.startswith(RESERVED_PREFIX)]


def position(events: AppEvents, kind: str, channel_id: str) -> int:
    return next(
        i for i, e in enumerate(events.events) if e.get("type") == kind and e["channel"]["id"] == channel_id
    )


async def no_legs(nodes: dict[str, httpx.AsyncClient]) -> bool:
    return set((await legs_per_node(nodes)).values()) == {0}


async def empty(nodes: dict[str, httpx.AsyncClient]) -> bool:
    """No channel and no bridge on any of ``nodes`` (a node still starting up is not empty)."""
    for client in nodes.values():
        try:
            if (await client.get("/channels")).json() or (await client.get("/bridges")).json():
                return False
        except (httpx.HTTPError, ValueError):
            return False
    return True
