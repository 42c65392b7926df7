"""Kamailio (the SIP edge) restarted: calls set up through it stay up (their in-dialog requests
follow the route set), new calls fail only while it is down, and no event is lost."""

import asyncio

from ariscale_cluster import Cluster
from tests.support.fault_calls import FaultCalls, assert_all_successful
from tests.support.sipp import place_calls


async def test_kamailio_restart_drops_no_call_and_fails_calls_only_while_down(
    restores_cluster: Cluster, fault_calls: FaultCalls
) -> None:
    cluster = restores_cluster
    calls = fault_calls
    await calls.hold(2)
    await asyncio.to_thread(cluster.procs.stop, "kamailio")
    # Nothing answers at the edge's address: the call is never set up (sipp gives up at its timeout).
    during = await place_calls(calls.sip_edge, calls.extension, calls=1, hold_ms=1000, timeout=5)
    assert during.successful == 0 and during.returncode != 0, during.output[-1500:]
    await asyncio.to_thread(cluster.up)
    results = [await calls.call(2)]
    assert set((await calls.held_up()).values()) == {"Up"}
    results += await calls.hang_up_held()
    assert_all_successful(results, 4)
    await calls.assert_events_whole()
