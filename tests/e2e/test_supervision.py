"""Processes are supervised as a container runtime would: one that crashes is started again."""

import asyncio

from ariscale_cluster import Cluster, supervisor
from tests.support.node_agent import agent_health
from tests.support.waiting import until

AGENT = "agent-n1"


async def test_a_killed_agent_is_restarted_by_the_supervisor_and_counted(supervised: Cluster) -> None:
    cluster = supervised
    node = next(n for n in cluster.spec.nodes if n.node_id == "n1")
    old_pid = cluster.procs.pid(AGENT)
    assert old_pid is not None

    cluster.procs.kill(AGENT)
    await until(
        lambda: cluster.procs.pid(AGENT) not in (None, old_pid), timeout=10, message="agent restarted"
    )
    await until(lambda: _healthy(f"http://127.0.0.1:{node.agent_port}"), timeout=30, message="agent healthy")
    assert supervisor.read_restarts(cluster.spec.state_dir)[AGENT].count == 1
    row = next(r for r in await asyncio.to_thread(cluster.status) if r.name == AGENT)
    assert row.healthy


async def test_a_process_stopped_on_purpose_stays_stopped(supervised: Cluster) -> None:
    cluster = supervised
    cluster.procs.stop(AGENT)  # as make down does: the pid file goes first
    await asyncio.sleep(2)  # several supervisor rounds: a restart would have happened by now
    assert cluster.procs.pid(AGENT) is None


async def _healthy(agent_url: str) -> bool:
    try:
        return bool(await agent_health(agent_url))
    except Exception:
        return False
