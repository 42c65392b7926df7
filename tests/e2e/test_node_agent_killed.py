"""``kill -9`` a node agent while its Asterisk runs: the node can no longer hand calls to their
apps, so it refuses them with a 503 that the SIP edge retries on another node — no call fails."""

import asyncio
from collections import Counter
from functools import partial

from ariscale_cluster import Cluster
from ariscale_common.bus import app_binding
from tests.e2e.conftest import RegisteredApp
from tests.support.answering import answering_from_bus
from tests.support.node_agent import agent_subscribed, app_gone
from tests.support.sipp import place_calls
from tests.support.stasis_bus import BusTap
from tests.support.waiting import until

NODE = "n1"
CALLS = 10


async def test_calls_arriving_at_a_node_whose_agent_died_go_to_another_node(
    restores_cluster: Cluster,
    registered_app: RegisteredApp,
    node_aris: dict[str, str],
    ari_auth: tuple[str, str],
) -> None:
    cluster = restores_cluster
    node = next(n for n in cluster.spec.nodes if n.node_id == NODE)
    agent_url = f"http://127.0.0.1:{node.agent_port}"
    await until(partial(agent_subscribed, agent_url, registered_app.name), message="agent subscribed")

    cluster.procs.kill(f"agent-{NODE}")
    # Asterisk drops the app with the agent's websocket: nothing on the node can take its calls now.
    await until(partial(app_gone, node_aris[NODE], ari_auth, registered_app.name), message="app gone on n1")

    with BusTap(cluster.spec.amqp_url, [app_binding(registered_app.name)]).running() as tap:
        async with answering_from_bus(tap, node_aris, ari_auth):
            # Round-robin at the edge: about half of these try the agentless node first.
            result = await place_calls(f"127.0.0.1:{cluster.spec.sip_edge_port}", registered_app.extension,
                                       calls=CALLS, rate=20, hold_ms=200)  # fmt: skip
            assert result.successful == CALLS, result.output[-3000:]
            await until(lambda: len(tap.events("StasisEnd")) == CALLS, message=f"{CALLS} calls ended")
    assert Counter(start.node_id for start in tap.events("StasisStart")) == {"n2": CALLS}
    await asyncio.to_thread(cluster.up)  # the agent back, before the next test
