"""``kill -9`` one node's Asterisk, restarted at once (as the supervisor or a container runtime
would): its calls end for the app within seconds even though the node may never look dead to the
gateway (the restarted Asterisk answers its probe), none of them stays recorded, and the other
node's calls stay up."""

import asyncio

import httpx

from ariscale_cluster import Cluster
from tests.support.callers import node_of
from tests.support.event_stream import SequencedApp
from tests.support.fault_calls import FaultCalls
from tests.support.sipp import place_calls
from tests.support.waiting import until

NODE = "n1"


async def test_a_restarted_asterisk_s_calls_end_for_the_app_at_once(
    cluster: Cluster, app: SequencedApp, fault_calls: FaultCalls, nodes: dict[str, httpx.AsyncClient]
) -> None:
    calls = asyncio.create_task(
        place_calls(fault_calls.sip_edge, fault_calls.extension, calls=4, rate=20, hold_ms=20_000, timeout=90)
    )
    await until(lambda: len(app.of_type("StasisStart")) >= 4, timeout=20, message="4 calls in the app")
    held = [e["channel"]["id"] for e in app.of_type("StasisStart")]
    on_node = [c for c in held if node_of(c) == NODE]
    others = [c for c in held if c not in on_node]
    assert on_node and others, f"the edge should spread 4 calls over both nodes: {held}"

    cluster.procs.kill(f"asterisk-{NODE}")
    await asyncio.to_thread(cluster.up)  # restarts only what is down: that Asterisk, at once

    def ended() -> set[str]:
        return {e["channel"]["id"] for e in app.of_type("StasisEnd")}

    await until(lambda: set(on_node) <= ended(), timeout=15, message=f"StasisEnd of {NODE}'s calls")
    assert not set(others) & ended(), "calls on the other node ended too"
    for channel in others:
        assert (await nodes[node_of(channel)].get(f"/channels/{channel}")).json()["state"] == "Up"
    for channel in on_node:  # forgotten: the gateway no longer routes to them
        assert (await fault_calls.gw.get(f"/channels/{channel}")).status_code == 404
    for channel in others:
        assert (await fault_calls.gw.delete(f"/channels/{channel}")).status_code == 204
    await calls
