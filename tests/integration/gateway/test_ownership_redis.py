"""Ownership in the real Redis: a resource forgotten with its dead node stays forgotten.

The race it guards against (issue 9 item 7): node n2 sends a channel's StasisStart, dies; a
request finds n2 dead and forgets the channel; then the tracker consumes the StasisStart, which
was still on its way, and must not record the dead channel again.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from ariscale_common.keyspace import Keyspace
from gateway.bridging.members import BridgeMembers
from gateway.events.calls import CallIndex
from gateway.events.tracking import StasisTracker
from gateway.ownership import Kind, Owner, OwnershipStore
from tests.integration.gateway.conftest import EVENTS_REDIS_URL

APP = "conf"


@pytest.fixture
async def keys(events_redis_prefix: str) -> Keyspace:
    return Keyspace(events_redis_prefix)


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(EVENTS_REDIS_URL)
    async with client:
        yield client


@pytest.fixture
def ownership(redis_client: aioredis.Redis, keys: Keyspace) -> OwnershipStore:
    return OwnershipStore(redis_client, keys)


@pytest.fixture
def tracker(redis_client: aioredis.Redis, keys: Keyspace, ownership: OwnershipStore) -> StasisTracker:
    return StasisTracker(ownership, BridgeMembers(redis_client, keys))


def stasis_start(channel_id: str, app: str = APP) -> bytes:
    return json.dumps({"type": "StasisStart", "application": app, "channel": {"id": channel_id}}).encode()


def channel_event(event_type: str, channel_id: str, app: str) -> bytes:
    return json.dumps({"type": event_type, "application": app, "channel": {"id": channel_id}}).encode()


async def test_a_late_stasis_start_does_not_bring_back_a_channel_forgotten_with_its_node(
    tracker: StasisTracker, ownership: OwnershipStore, redis_client: aioredis.Redis, keys: Keyspace
) -> None:
    await ownership.set(Kind.CHANNEL, "n2-1.0", Owner("n2", APP))
    await ownership.forget_dead(Kind.CHANNEL, "n2-1.0", "n2")

    await tracker.handle(APP, "n2", "StasisStart", stasis_start("n2-1.0"))

    assert await ownership.get(Kind.CHANNEL, "n2-1.0") is None
    assert "n2-1.0" not in await CallIndex(redis_client, keys).calls(APP)


async def test_stasis_start_records_the_channel_otherwise(
    tracker: StasisTracker, ownership: OwnershipStore, redis_client: aioredis.Redis, keys: Keyspace
) -> None:
    await ownership.forget_dead(Kind.CHANNEL, "n2-1.0", "n2")

    await tracker.handle(APP, "n1", "StasisStart", stasis_start("n1-1.0"))
    # The same id on another node (an app may choose channel ids) is not the dead node's channel.
    await tracker.handle(APP, "n1", "StasisStart", stasis_start("n2-1.0"))

    assert await ownership.get(Kind.CHANNEL, "n1-1.0") == Owner("n1", APP)
    assert await ownership.get(Kind.CHANNEL, "n2-1.0") == Owner("n1", APP)
    calls = CallIndex(redis_client, keys)
    assert set(await calls.calls(APP)) == {"n1-1.0", "n2-1.0"}
    assert APP in await calls.apps()  # indexed with its calls, for the grace sweep
    assert await calls.calls(APP, arrived_before=time.time() - 3600) == []  # scored by arrival time


async def test_the_forgotten_mark_expires(
    ownership: OwnershipStore, redis_client: aioredis.Redis, keys: Keyspace
) -> None:
    await ownership.forget_dead(Kind.CHANNEL, "n2-1.0", "n2")

    ttl = await redis_client.ttl(keys.forgotten(Kind.CHANNEL.value, "n2-1.0"))

    assert ttl > 0  # a mark that never expired would pile up one key per dead resource


async def test_placement_counts_follow_calls_reported_by_their_nodes(
    tracker: StasisTracker, ownership: OwnershipStore
) -> None:
    """An inbound call recorded from its StasisStart counts for its node; forgotten, it no longer does."""
    await tracker.handle(APP, "n1", "StasisStart", stasis_start("n1-7.0"))
    await tracker.handle(APP, "n1", "StasisStart", stasis_start("n1-8.0"))
    assert await ownership.channel_counts(["n1", "n2"]) == [2, 0]

    await ownership.forget_dead(Kind.CHANNEL, "n1-7.0", "n1")
    await ownership.release(Kind.CHANNEL, "n1-8.0")
    assert await ownership.channel_counts(["n1", "n2"]) == [0, 0]


async def test_a_moved_channel_stays_the_new_apps_whatever_the_order_of_its_events(
    tracker: StasisTracker, ownership: OwnershipStore, redis_client: aioredis.Redis, keys: Keyspace
) -> None:
    """Each app has its own websocket on the node: B's StasisStart may come before A's StasisEnd."""
    await tracker.handle(APP, "n1", "StasisStart", stasis_start("n1-9.0"))
    await tracker.handle("other", "n1", "StasisStart", stasis_start("n1-9.0", "other"))
    await tracker.handle(APP, "n1", "StasisEnd", channel_event("StasisEnd", "n1-9.0", APP))

    assert await ownership.get(Kind.CHANNEL, "n1-9.0") == Owner("n1", "other")
    assert await ownership.channel_counts(["n1"]) == [1]
    calls = CallIndex(redis_client, keys)
    assert ("n1-9.0" in await calls.calls(APP), "n1-9.0" in await calls.calls("other")) == (False, True)


async def test_a_failed_move_gives_the_channel_back_to_its_app(
    tracker: StasisTracker, ownership: OwnershipStore
) -> None:
    await ownership.set(Kind.CHANNEL, "n1-10.0", Owner("n1", "other"))  # the gateway, on the move's 204

    await tracker.handle(
        APP, "n1", "ApplicationMoveFailed", channel_event("ApplicationMoveFailed", "n1-10.0", APP)
    )

    assert await ownership.get(Kind.CHANNEL, "n1-10.0") == Owner("n1", APP)


async def test_a_call_that_ends_before_its_creation_is_recorded_stays_forgotten(
    tracker: StasisTracker, ownership: OwnershipStore
) -> None:
    """An originate that fails at once: its ChannelDestroyed is consumed before the gateway records
    the node's 200; the late record must not bring the channel back (nor count it for placement)."""
    await tracker.handle(APP, "n1", "ChannelDestroyed", channel_event("ChannelDestroyed", "n1-9.0", APP))
    assert not await ownership.record_created(Kind.CHANNEL, "n1-9.0", Owner("n1", APP))
    assert await ownership.get(Kind.CHANNEL, "n1-9.0") is None
    assert await ownership.channel_counts(["n1"]) == [0]


async def test_a_created_channel_is_recorded_and_counted_until_it_ends(
    tracker: StasisTracker, ownership: OwnershipStore
) -> None:
    assert await ownership.record_created(Kind.CHANNEL, "n1-10.0", Owner("n1", APP))
    assert await ownership.channel_counts(["n1"]) == [1]
    await tracker.handle(APP, "n1", "ChannelDestroyed", channel_event("ChannelDestroyed", "n1-10.0", APP))
    assert await ownership.get(Kind.CHANNEL, "n1-10.0") is None
    assert await ownership.channel_counts(["n1"]) == [0]


async def test_an_app_may_reuse_the_id_of_a_channel_that_ended(
    tracker: StasisTracker, ownership: OwnershipStore
) -> None:
    """Claiming an id clears its tombstone: the new channel of that id is recorded."""
    await tracker.handle(APP, "n1", "ChannelDestroyed", channel_event("ChannelDestroyed", "mine", APP))
    assert await ownership.claim(Kind.CHANNEL, "mine", Owner("n1", APP)) == Owner("n1", APP)
    assert await ownership.record_created(Kind.CHANNEL, "mine", Owner("n1", APP))
    assert await ownership.get(Kind.CHANNEL, "mine") == Owner("n1", APP)


async def test_stale_channels_are_forgotten_once_and_only_where_their_entry_names_the_node(
    ownership: OwnershipStore,
) -> None:
    """The audit's claim: the entries forgotten come back to one caller only (it announces their
    end), and an entry re-pointed at another node stays."""
    await ownership.set(Kind.CHANNEL, "n1-20.0", Owner("n1", APP))
    await ownership.set(Kind.CHANNEL, "n1-20.1", Owner("n1", APP))
    await ownership.set(Kind.CHANNEL, "n1-20.1", Owner("n2", APP))
    first = await ownership.forget_stale_channels("n1", ["n1-20.0", "n1-20.1"])
    again = await ownership.forget_stale_channels("n1", ["n1-20.0", "n1-20.1"])
    assert (first, again) == ({"n1-20.0": Owner("n1", APP)}, {})
    assert await ownership.get(Kind.CHANNEL, "n1-20.1") == Owner("n2", APP)
    assert await ownership.channel_counts(["n1", "n2"]) == [0, 1]


async def test_creations_of_one_id_take_turns(ownership: OwnershipStore) -> None:
    """Two gateways creating one bridge id: the node sees one creation at a time (Asterisk answers
    simultaneous ones with a 500, one after the other with the 409 one Asterisk gives)."""
    inside, most = 0, 0

    async def create() -> None:
        nonlocal inside, most
        async with ownership.creating(Kind.BRIDGE, "conf-1"):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.05)  # the node's answer on its way
            inside -= 1

    await asyncio.gather(*(create() for _ in range(4)))
    assert most == 1


async def test_a_call_leaves_the_index_with_its_stasis_end_or_its_hangup(
    tracker: StasisTracker, ownership: OwnershipStore, redis_client: aioredis.Redis, keys: Keyspace
) -> None:
    await tracker.handle(APP, "n1", "StasisStart", stasis_start("n1-11.0"))
    await tracker.handle(APP, "n1", "StasisStart", stasis_start("n1-12.0"))
    assert set(await CallIndex(redis_client, keys).calls(APP)) == {"n1-11.0", "n1-12.0"}

    await tracker.handle(APP, "n1", "StasisEnd", channel_event("StasisEnd", "n1-11.0", APP))
    await tracker.handle(APP, "n1", "ChannelDestroyed", channel_event("ChannelDestroyed", "n1-12.0", APP))

    assert await CallIndex(redis_client, keys).calls(APP) == []
    assert await ownership.get_many(Kind.CHANNEL, ["n1-11.0", "n1-12.0"]) == [None, None]
    assert await ownership.channel_counts(["n1"]) == [0]
