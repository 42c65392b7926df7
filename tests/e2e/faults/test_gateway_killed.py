"""One gateway of two killed (kill -9): the app reconnects to the other and resumes after the last
event it saw; no call is dropped or fails (the hang-up grace covers the gap), no event is lost."""

import asyncio

from ariscale_cluster import Cluster
from tests.support.event_stream import SequencedApp
from tests.support.fault_calls import FaultCalls, calls_survive
from tests.support.waiting import until

SECOND = "gateway-2"  # the second_gateway_url fixture's process


async def test_gateway_killed_drops_no_call_and_loses_no_event(
    cluster: Cluster, gateway_url: str, second_gateway_url: str, app: SequencedApp, fault_calls: FaultCalls
) -> None:
    await app.connect(second_gateway_url)  # the app's calls and events go through the second one

    async def down() -> None:
        await asyncio.to_thread(cluster.procs.kill, SECOND)
        await until(lambda: not app.connected(), message="the app's websocket dropped with its gateway")

    async def up() -> None:
        await app.connect(gateway_url, after=app.last)

    await calls_survive(fault_calls, down, up)
