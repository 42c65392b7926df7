"""A bridge spanning nodes notifies its app as one Asterisk would: no trace of link legs (real calls)."""

from typing import Any

import httpx

from ariscale_common.dialplan import LINK_APP
from tests.support.ari import AppEvents
from tests.support.bridges import add_channels, home_of, new_bridge
from tests.support.callers import Callers, node_of
from tests.support.waiting import until


def of_bridge(events: AppEvents, event_type: str, bridge_id: str) -> list[dict[str, Any]]:
    return [e for e in events.of_type(event_type) if e["bridge"]["id"] == bridge_id]


def entered(events: AppEvents, bridge_id: str, channel_id: str) -> dict[str, Any] | None:
    found = [
        e for e in of_bridge(events, "ChannelEnteredBridge", bridge_id) if e["channel"]["id"] == channel_id
    ]
    return found[0] if found else None


async def leg_call_ids(nodes: dict[str, httpx.AsyncClient]) -> set[str]:
    """The SIP Call-IDs of every link leg (both ends share it)."""
    found = set()
    for client in nodes.values():
        for channel in (await client.get("/channels")).json():
            if str(channel["dialplan"].get("app_data", "")).startswith(LINK_APP):
                found.add(channel["protocol_id"])
    return found


async def test_members_on_two_nodes_see_one_bridge_and_no_link_leg(
    gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], app_events: AppEvents, app_callers: Callers
) -> None:
    first, second = await app_callers.one_on_each_node()
    ids = sorted([first["id"], second["id"]])
    before = {c["id"]: c["connected"] for c in (await gw.get("/channels")).json()}
    bridge_id = await new_bridge(gw, name="conf")
    await add_channels(gw, bridge_id, first["id"], second["id"])
    assert await home_of(nodes, bridge_id) == node_of(first["id"])
    legs = await leg_call_ids(nodes)
    assert legs, "the second member is behind a link leg"
    rest = (await gw.get(f"/bridges/{bridge_id}")).json()
    await until(lambda: entered(app_events, bridge_id, second["id"]) is not None, message="second entered")

    # The second member's entry (on the other node) lists both members, as one Asterisk would,
    # and describes the bridge as the REST view does.
    joined = entered(app_events, bridge_id, second["id"])
    assert joined is not None
    assert sorted(joined["bridge"]["channels"]) == ids
    for event in of_bridge(app_events, "ChannelEnteredBridge", bridge_id):
        assert set(event["bridge"]["channels"]) <= set(ids), "no link leg among the members"
        assert (event["bridge"]["name"], event["bridge"]["creationtime"]) == (
            "conf",
            rest["creationtime"],
        )

    # Link legs are nobody's bridge peer and present no identity to the members.
    peers = [
        e
        for e in app_events.of_type("ChannelVarset")
        if e.get("variable") in ("BRIDGEPEER", "BRIDGEPVTCALLID") and e.get("value")
    ]
    assert not [e for e in peers if e["value"].startswith("PJSIP/cluster-") or e["value"] in legs], peers
    assert not app_events.of_type("ChannelConnectedLine")
    after = {c["id"]: c["connected"] for c in (await gw.get("/channels")).json()}
    assert after == before, "the members' connected line is untouched"

    # The bridge's own node loses its member: what is left lives on the other node only.
    removed = await gw.post(f"/bridges/{bridge_id}/removeChannel", params={"channel": first["id"]})
    assert removed.status_code == 204, removed.text
    await until(lambda: len(of_bridge(app_events, "ChannelLeftBridge", bridge_id)) == 1, message="left")
    assert of_bridge(app_events, "ChannelLeftBridge", bridge_id)[0]["bridge"]["channels"] == [second["id"]]

    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204
    await until(
        lambda: bool(of_bridge(app_events, "BridgeDestroyed", bridge_id)),
        message="BridgeDestroyed reaches the app, whose member was on another node",
    )
    left = of_bridge(app_events, "ChannelLeftBridge", bridge_id)
    assert [e["channel"]["id"] for e in left] == [first["id"], second["id"]]
    assert left[1]["bridge"]["channels"] == []
