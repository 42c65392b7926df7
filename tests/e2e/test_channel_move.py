"""``POST /channels/{id}/move``: a real call goes from app A to app B, and its ownership with it.

A loses the channel (404 on it, out of its listing), B controls it and hears it (StasisStart with
the move's args); moves to a name that is no registered app are refused (query and JSON body).
"""

from collections.abc import Callable
from typing import Any

import httpx
from redis import asyncio as aioredis

from ariscale_cluster import Cluster
from ariscale_common.keyspace import Keyspace
from tests.e2e.conftest import OtherApp, RegisteredApp
from tests.support.ari import AppEvents
from tests.support.callers import Callers, node_of
from tests.support.waiting import until


def stasis_events(events: AppEvents, event_type: str, channel_id: str) -> list[dict[str, Any]]:
    return [e for e in events.of_type(event_type) if e["channel"]["id"] == channel_id]


def seen(events: AppEvents, event_type: str, channel_id: str) -> Callable[[], bool]:
    """A check for :func:`until`: the app got ``event_type`` for the channel."""
    return lambda: bool(stasis_events(events, event_type, channel_id))


async def test_a_call_moved_to_another_app_becomes_that_apps_own(
    gw: httpx.AsyncClient, gateway_url: str, app_events: AppEvents, app_callers: Callers, other_app: OtherApp
) -> None:
    calls = await app_callers.one_on_each_node()
    async with AppEvents(gateway_url, other_app.auth).running() as b_events:
        for call in calls:
            channel_id = call["id"]
            moved = await gw.post(
                f"/channels/{channel_id}/move", json={"app": other_app.name, "appArgs": "xfer"}
            )
            assert moved.status_code == 204, moved.text
            # Lost from the moment the node accepted the move, before any event says so.
            assert (await gw.get(f"/channels/{channel_id}")).status_code == 404

            def started_in_b(channel_id: str = channel_id) -> bool:
                return [e["args"] for e in stasis_events(b_events, "StasisStart", channel_id)] == [["xfer"]]

            await until(started_in_b, message=f"StasisStart of {channel_id} in app B")
            # B controls it at once, on whichever node it lives.
            playing = await other_app.client.post(
                f"/channels/{channel_id}/play", params={"media": "sound:beep"}
            )
            assert playing.status_code == 201, playing.text
            assert (await other_app.client.get(f"/channels/{channel_id}")).status_code == 200
            # A has lost it: as any other app's channel.
            assert (await gw.get(f"/channels/{channel_id}")).status_code == 404
            assert (await gw.post(f"/channels/{channel_id}/ring")).status_code == 404
            await until(seen(app_events, "StasisEnd", channel_id), message=f"StasisEnd of {channel_id} in A")
        assert {node_of(c["id"]) for c in calls} == {"n1", "n2"}
        assert [c["id"] for c in (await gw.get("/channels")).json()] == []
        listed = sorted(c["id"] for c in (await other_app.client.get("/channels")).json())
        assert listed == sorted(c["id"] for c in calls)
        for call in calls:
            assert (await other_app.client.delete(f"/channels/{call['id']}")).status_code == 204
        await until(
            lambda: all(stasis_events(b_events, "StasisEnd", c["id"]) for c in calls),
            message="the moved calls ended in app B",
        )
    assert not [e for e in app_events.events if e.get("channel", {}).get("id") in {c["id"] for c in calls}
                and e["type"] in ("ChannelHangupRequest", "ChannelDestroyed")]  # fmt: skip


async def test_a_move_to_an_app_the_cluster_does_not_have_is_refused(
    gw: httpx.AsyncClient, app_callers: Callers
) -> None:
    (call,) = await app_callers.call(1)
    for target in ("no-such-app", "ariscale-link"):
        for request in ({"params": {"app": target}}, {"json": {"app": target}}):
            refused = await gw.post(f"/channels/{call['id']}/move", **request)  # type: ignore[arg-type]
            assert refused.status_code == 422, refused.text
            assert refused.json()["error"] == "unknown-application", refused.text
    assert (await gw.get(f"/channels/{call['id']}")).status_code == 200


async def test_a_moved_call_stays_the_new_apps_after_redis_lost_its_owner(
    cluster: Cluster,
    gw: httpx.AsyncClient,
    gateway_url: str,
    app_callers: Callers,
    other_app: OtherApp,
) -> None:
    """Rebuilt from the node, the owner is the app the channel is in now, not the one it entered."""
    (call,) = await app_callers.call(1)
    async with AppEvents(gateway_url, other_app.auth).running() as b_events:
        assert (
            await gw.post(f"/channels/{call['id']}/move", params={"app": other_app.name})
        ).status_code == 204
        await until(seen(b_events, "StasisStart", call["id"]), message="moved into B")
        client = aioredis.Redis.from_url(cluster.spec.redis_url)
        async with client:
            assert await client.delete(Keyspace(cluster.spec.redis_key_prefix).owner("channel", call["id"]))
        assert (await gw.get(f"/channels/{call['id']}")).status_code == 404
        assert (await other_app.client.get(f"/channels/{call['id']}")).status_code == 200
        assert (await other_app.client.delete(f"/channels/{call['id']}")).status_code == 204


async def test_the_old_app_hears_nothing_more_of_a_call_it_had_subscribed_to(
    gw: httpx.AsyncClient,
    registered_app: RegisteredApp,
    gateway_url: str,
    app_events: AppEvents,
    app_callers: Callers,
    other_app: OtherApp,
    nodes: dict[str, httpx.AsyncClient],
) -> None:
    """Asterisk counts an explicit subscription apart from the Stasis one: the move ends both."""
    (call,) = await app_callers.call(1)
    channel_id = call["id"]
    path = f"/applications/{registered_app.name}/subscription"
    assert (await gw.post(path, params={"eventSource": f"channel:{channel_id}"})).status_code == 200
    async with AppEvents(gateway_url, other_app.auth).running() as b_events:
        assert (
            await gw.post(f"/channels/{channel_id}/move", params={"app": other_app.name})
        ).status_code == 204
        await until(seen(b_events, "StasisStart", channel_id), message="moved into B")
        await until(seen(app_events, "StasisEnd", channel_id), message="gone from A")
        marker = {"variable": "MOVED_MARK", "value": "b"}
        assert (
            await other_app.client.post(f"/channels/{channel_id}/variable", params=marker)
        ).status_code == 204

        def b_heard_it() -> bool:
            return any(e.get("variable") == "MOVED_MARK" for e in b_events.of_type("ChannelVarset"))

        await until(b_heard_it, message="B heard its own change")
        assert not [e for e in app_events.of_type("ChannelVarset") if e.get("variable") == "MOVED_MARK"]
        subscribed = (await nodes[node_of(channel_id)].get(f"/applications/{registered_app.name}")).json()
        assert channel_id not in subscribed["channel_ids"], "A's own subscription went with the call"
        assert (await other_app.client.delete(f"/channels/{channel_id}")).status_code == 204
