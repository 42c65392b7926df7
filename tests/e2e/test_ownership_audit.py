"""A call that hangs up while its node's agent is down: Asterisk never replays the end, so the
gateways' ownership audit announces it to the app and the call's Redis keys go."""

import asyncio
from functools import partial

import httpx
import redis.asyncio as aioredis

from ariscale_cluster import Cluster
from ariscale_cluster.extra_gateway import start_extra_gateway, stop_extra_gateway
from ariscale_common.keyspace import Keyspace
from gateway.events.sequence import ENDED_TTL
from tests.e2e.conftest import RegisteredApp
from tests.support.ari import AppEvents
from tests.support.callers import Callers, node_of
from tests.support.node_agent import agent_subscribed
from tests.support.ownership import recorded_channels
from tests.support.waiting import until


async def test_a_call_that_ended_while_its_agent_was_down_ends_for_the_app(
    restores_cluster: Cluster,
    registered_app: RegisteredApp,
    app_events: AppEvents,
    app_callers: Callers,
    nodes: dict[str, httpx.AsyncClient],
) -> None:
    cluster = restores_cluster
    (call,) = await app_callers.call(1, hold_ms=120_000)
    channel_id, node_id = call["id"], node_of(call["id"])
    agent_url = f"http://127.0.0.1:{next(n.agent_port for n in cluster.spec.nodes if n.node_id == node_id)}"

    # The agent is dead once kill returns: the end events Asterisk sends now reach nobody (the app
    # itself stays on the node while a channel is in it, so there is no deactivation to wait for).
    cluster.procs.kill(f"agent-{node_id}")
    assert (await nodes[node_id].delete(f"/channels/{channel_id}")).status_code == 204
    await asyncio.to_thread(cluster.up)
    await until(
        partial(agent_subscribed, agent_url, registered_app.name), message="agent back and subscribed"
    )
    assert channel_id in await recorded_channels(cluster), "the end went unheard: the call is still recorded"

    start_extra_gateway(
        cluster, cluster.spec.port_base + 93, {"ARISCALE_OWNERSHIP_AUDIT_SECONDS": "1"}, "gateway-audit-call"
    )
    try:
        await until(
            lambda: _ended(app_events, channel_id), message="the app hears the call's end", timeout=60
        )
        await until(
            lambda: _keys_gone(cluster, registered_app.name, channel_id), message="the call's keys go"
        )
    finally:
        stop_extra_gateway(cluster, "gateway-audit-call")
    ends = [(e["type"], e["channel"]["id"]) for e in app_events.events if e.get("type") in _ENDS]
    assert ends == [("StasisEnd", channel_id), ("ChannelDestroyed", channel_id)], "each end once, in order"


_ENDS = ("StasisEnd", "ChannelDestroyed")


async def _ended(app_events: AppEvents, channel_id: str) -> bool:
    return all(any(e["channel"]["id"] == channel_id for e in app_events.of_type(t)) for t in _ENDS)


async def _keys_gone(cluster: Cluster, app: str, channel_id: str) -> bool:
    """Ownership, the node's index and the call index forget the call; its assignment to an
    instance only waits out the short time every ended call's does."""
    keys = Keyspace(cluster.spec.redis_key_prefix)
    async with aioredis.Redis.from_url(cluster.spec.redis_url) as client:
        in_calls = await client.zscore(keys.calls(app), channel_id) is not None
        assignment_ttl = await client.ttl(keys.assignment(app, f"channel:{channel_id}"))
    recorded = channel_id in await recorded_channels(cluster)
    # -2: no such key; a live call's assignment lives a day (ASSIGN_TTL).
    return not recorded and not in_calls and (assignment_ttl == -2 or 0 <= assignment_ttl <= ENDED_TTL)
