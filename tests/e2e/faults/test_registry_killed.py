"""The registry killed (kill -9) and started again by the supervisor: it is not on the call path,
so no call is dropped or fails meanwhile and the app gets every event once, in order."""

import asyncio

from ariscale_cluster import Cluster
from ariscale_cluster.cluster import http_ok
from tests.support.fault_calls import FaultCalls, calls_survive
from tests.support.waiting import until

REGISTRY = "registry"


async def test_registry_killed_drops_no_call_and_loses_no_event(
    supervised: Cluster, fault_calls: FaultCalls
) -> None:
    cluster = supervised
    killed: list[int | None] = []

    async def down() -> None:
        killed.append(cluster.procs.pid(REGISTRY))
        await asyncio.to_thread(cluster.procs.kill, REGISTRY)

    async def up() -> None:
        await until(lambda: cluster.procs.pid(REGISTRY) not in (None, *killed), message="registry restarted")
        url = f"http://127.0.0.1:{cluster.spec.registry_port}/health"
        await until(lambda: asyncio.to_thread(http_ok, url), timeout=30, message="registry healthy")

    await calls_survive(fault_calls, down, up)
