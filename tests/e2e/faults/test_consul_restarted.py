"""Consul restarted (the cluster's dev-mode agent: it comes back empty): agents register their
nodes again and the registry mirrors the apps again; no call is dropped or fails meanwhile."""

import asyncio

from ariscale_cluster import Cluster
from tests.support.fault_calls import FaultCalls, calls_survive


async def test_consul_restart_drops_no_call_and_loses_no_event(
    restores_cluster: Cluster, fault_calls: FaultCalls
) -> None:
    cluster = restores_cluster

    async def down() -> None:
        await asyncio.to_thread(cluster.procs.stop, "consul")

    async def up() -> None:
        await asyncio.to_thread(cluster.up)

    await calls_survive(fault_calls, down, up)
