"""``kill -9`` an Asterisk: its node turns critical in Consul within 10 s while the agent lives;
restarted, the node gets its app subscriptions and dialed numbers back and serves calls again,
without anyone touching the agent."""

import asyncio
import time
from functools import partial

from ariscale_cluster import Cluster
from ariscale_common.bus import app_binding, stasis_routing_key
from tests.support.answering import answering_from_bus
from tests.support.cluster_apps import ClusterApps, FreshApp
from tests.support.node_agent import link_state
from tests.support.sipp import place_calls
from tests.support.stasis_bus import BusTap
from tests.support.waiting import until

NODE = "n1"


async def check_is(cluster_apps: ClusterApps, node_id: str, status: str) -> bool:
    return (await cluster_apps.node_checks()).get(node_id) == status


async def test_killed_asterisk_goes_critical_and_comes_back_by_itself(
    restores_cluster: Cluster, fresh_app: FreshApp
) -> None:
    cluster, cluster_apps = restores_cluster, fresh_app.apps
    app_name, node_aris, ari_auth = fresh_app.name, fresh_app.node_aris, fresh_app.ari_auth
    await fresh_app.put_and_wait_served()
    await until(partial(check_is, cluster_apps, NODE, "passing"), message=f"{NODE} passing")
    node = next(n for n in cluster.spec.nodes if n.node_id == NODE)
    agent_url = f"http://127.0.0.1:{node.agent_port}"
    agent_pid = cluster.procs.pid(f"agent-{NODE}")

    cluster.procs.kill(f"asterisk-{NODE}")
    killed = time.monotonic()
    await until(partial(check_is, cluster_apps, NODE, "critical"), timeout=10, message=f"{NODE} critical")
    critical_after = time.monotonic() - killed
    assert await link_state(agent_url, f"ari:{app_name}") != "up"

    await asyncio.to_thread(cluster.up)  # restarts what is unhealthy: only the killed Asterisk
    restarted = time.monotonic()
    await until(
        fresh_app.served_by(NODE),
        timeout=10, interval=0.05, message=f"{app_name} served again by {NODE}",
    )  # fmt: skip
    resubscribed_after = time.monotonic() - restarted
    await until(partial(check_is, cluster_apps, NODE, "passing"), message=f"{NODE} passing again")
    assert await link_state(agent_url, f"ari:{app_name}") == "up"
    assert cluster.procs.pid(f"agent-{NODE}") == agent_pid, "the agent was not restarted"

    with BusTap(cluster.spec.amqp_url, [app_binding(app_name)]).running() as tap:
        async with answering_from_bus(tap, node_aris, ari_auth):
            result = await place_calls(node.sip_address, fresh_app.extension, calls=2, rate=10, hold_ms=200)
            await until(lambda: len(tap.events("StasisEnd")) == 2, message="2 StasisEnd on the bus")
    assert result.successful == 2, result.output[-2000:]
    assert [e.routing_key for e in tap.events("StasisStart")] == [
        stasis_routing_key(app_name, NODE, "StasisStart")
    ] * 2
    print(f"critical after {critical_after:.1f} s, resubscribed {resubscribed_after:.1f} s after up()")
