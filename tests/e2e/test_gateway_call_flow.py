"""An ARI application, written against one Asterisk, runs through the gateway on the whole cluster.

The client is deliberately plain (a websocket and an HTTP client, not ariscale's SDK).
"""

import asyncio
from collections import Counter
from functools import partial

import httpx
import redis.asyncio as aioredis

from ariscale_cluster import Cluster
from tests.e2e.conftest import BLACK_HOLE, RegisteredApp
from tests.support.ari import AppEvents
from tests.support.sipp import place_calls
from tests.support.waiting import until


async def handle_calls(gw: httpx.AsyncClient, events: AppEvents, expected: int) -> list[str]:
    """Answer each call as its StasisStart arrives and play it a beep; return the channel ids."""
    handled: list[str] = []

    async def next_calls() -> bool:
        for start in events.of_type("StasisStart")[len(handled) :]:
            channel_id = start["channel"]["id"]
            assert (await gw.post(f"/channels/{channel_id}/answer")).status_code == 204
            playback = await gw.post(f"/channels/{channel_id}/play", params={"media": "sound:beep"})
            assert playback.status_code == 201, playback.text
            handled.append(channel_id)
        return len(handled) == expected

    await until(next_calls, timeout=20, interval=0.05, message=f"{expected} calls answered")
    return handled


async def owned_ids(cluster: Cluster) -> set[str]:
    """The ids of every resource with an ownership entry in Redis."""
    client = aioredis.Redis.from_url(cluster.spec.redis_url)
    async with client:
        keys = [k async for k in client.scan_iter(match=f"{cluster.spec.redis_key_prefix}own:*")]
    return {key.decode().rsplit(":", 1)[1] for key in keys}


async def test_ten_calls_through_the_gateway(
    cluster: Cluster, gw: httpx.AsyncClient, app_events: AppEvents, registered_app: RegisteredApp,
    sip_edge: str, node_aris: dict[str, str], ari_auth: tuple[str, str], registry: httpx.AsyncClient,
) -> None:  # fmt: skip
    assert (await registry.get(f"/apps/{registered_app.name}")).json()["consumers"] == 1
    calls = asyncio.create_task(
        place_calls(sip_edge, registered_app.extension, calls=10, rate=20, hold_ms=60000)
    )
    channel_ids = await handle_calls(gw, app_events, 10)
    assert set(Counter(c.split("-")[0] for c in channel_ids)) == {"n1", "n2"}

    await until(lambda: len(app_events.of_type("PlaybackFinished")) == 10, message="10 beeps played")
    listed = (await gw.get("/channels")).json()
    assert sorted(c["id"] for c in listed) == sorted(channel_ids)
    assert all(c["state"] == "Up" for c in listed)

    for channel_id in channel_ids:
        assert (await gw.delete(f"/channels/{channel_id}")).status_code == 204
    result = await calls
    assert result.successful == 10, result.output[-2000:]

    await until(lambda: len(app_events.of_type("StasisEnd")) == 10, message="10 StasisEnd at the app")
    # Events of one call arrive in order: start, …, end.
    for channel_id in channel_ids:
        types = [e["type"] for e in app_events.events if e.get("channel", {}).get("id") == channel_id]
        assert types[0] == "StasisStart" and "StasisEnd" in types
        assert types.index("ChannelStateChange") < types.index("StasisEnd")

    async def nothing_left() -> bool:
        async with httpx.AsyncClient(auth=ari_auth) as node:
            on_nodes = [c for url in node_aris.values() for c in (await node.get(f"{url}/channels")).json()]
        return not on_nodes and not (await owned_ids(cluster)) & set(channel_ids)

    await until(nothing_left, message="no channel on any node and none in Redis")


async def test_a_dead_nodes_resources_answer_404_and_leave_redis(
    cluster: Cluster, gw: httpx.AsyncClient, registered_app: RegisteredApp
) -> None:
    created: list[str] = []
    params = {"endpoint": BLACK_HOLE, "app": registered_app.name}
    while {c.split("-")[0] for c in created} != {"n1", "n2"}:  # least loaded first: one on each
        assert len(created) < 6, created
        answer = await gw.post("/channels/create", params=params)
        created.append(answer.json()["id"])
    victim = next(c for c in created if c.startswith("n2-"))
    try:
        cluster.procs.kill("asterisk-n2")
        answer = await asyncio.wait_for(gw.get(f"/channels/{victim}"), 5)
        assert answer.status_code == 404
        assert victim not in await owned_ids(cluster)
        survivor = next(c for c in created if c.startswith("n1-"))
        assert (await gw.get(f"/channels/{survivor}")).status_code == 200
        for channel_id in (c for c in created if c.startswith("n1-")):
            assert (await gw.delete(f"/channels/{channel_id}")).status_code == 204
    finally:
        cluster.up()
    await until(partial(_serves_again, gw), timeout=20, message="the gateway lists channels again")


async def _serves_again(gw: httpx.AsyncClient) -> bool:
    return (await gw.get("/channels")).status_code == 200
