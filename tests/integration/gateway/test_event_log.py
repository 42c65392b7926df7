"""The event log on a real Redis: one number per event, kept through redeliveries, replayed once."""

import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from ariscale_common.keyspace import Keyspace
from gateway.events.sequence import EventLog, ToStamp
from gateway.exceptions import ResumeExpired, SequenceUnknown
from tests.integration.gateway.conftest import EVENTS_REDIS_URL


@pytest.fixture
async def redis_client(events_redis_prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(EVENTS_REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def keys(events_redis_prefix: str) -> Keyspace:
    return Keyspace(events_redis_prefix)


async def live(redis: Redis, keys: Keyspace, *instances: str) -> None:
    await redis.zadd(keys.instances("app"), dict.fromkeys(instances, time.time() + 60))


async def test_calls_spread_round_robin_and_stick_to_their_instance(
    redis_client: Redis, keys: Keyspace
) -> None:
    log = EventLog(redis_client, keys)
    await live(redis_client, keys, "g2/b", "g1/a", "g1/c")
    firsts = [await log.stamp("app", f"call-{i}", "{}", now=time.time()) for i in range(6)]
    assert [s.instance for s in firsts if s] == ["g1/c", "g2/b", "g1/a"] * 2  # sorted, turn 1 first
    again = await log.stamp("app", "call-0", "{}", now=time.time())
    assert again is not None and again.instance == "g1/c"
    no_call = await log.stamp("app", None, "{}", now=time.time())
    assert no_call is not None and no_call.instance == "g1/a"  # the first live one in id order
    assert [s.seq for s in firsts if s] + [again.seq, no_call.seq] == list(range(1, 9))


async def test_nobody_live_means_no_number(redis_client: Redis, keys: Keyspace) -> None:
    log = EventLog(redis_client, keys)
    assert await log.stamp("app", "call", "{}", now=time.time()) is None
    await live(redis_client, keys, "g/a")
    stamped = await log.stamp("app", "call", "{}", now=time.time())
    assert stamped is not None and stamped.seq == 1


async def test_an_event_delivered_again_keeps_its_number_and_text(
    redis_client: Redis, keys: Keyspace
) -> None:
    log = EventLog(redis_client, keys)
    await live(redis_client, keys, "g/a", "g/b")
    first = await log.stamp("app", "c", '{"n": 1}', event_id="n1.run.7", now=time.time())
    await log.stamp("app", "c", '{"n": 2}', event_id="n1.run.8", now=time.time())
    assert first is not None
    again = await log.stamp("app", "c", '{"n": "viewed again"}', event_id="n1.run.7", avoid=[first.instance],
                            now=time.time())  # fmt: skip
    assert again is not None and (again.seq, again.text) == (1, '{"n": 1}')
    assert again.instance != first.instance and again.previous == first.instance


async def test_events_numbered_together_are_numbered_as_one_by_one(
    redis_client: Redis, keys: Keyspace
) -> None:
    log = EventLog(redis_client, keys)
    await live(redis_client, keys, "g/a", "g/b")
    before = await log.stamp("app", "c1", '{"n": 0}', event_id="n1.run.1", now=time.time())
    batch = [
        ToStamp("c2", '{"n": 1}', "n1.run.2"),  # a new call: the next instance in turn
        ToStamp("c1", '{"n": 2}', "n1.run.3"),  # sticks to c1's instance
        ToStamp("c2", '{"n": 3}', "n1.run.4", ending=True),  # sticks to the instance c2 just got
        ToStamp(None, '{"n": 4}'),  # no call, no id: the first live instance
        ToStamp("c1", '{"n": "again"}', "n1.run.1"),  # delivered again: its number and text
    ]
    stamped = await log.stamp_many("app", batch, now=time.time())
    assert before is not None and stamped is not None
    assert [s.seq for s in stamped] == [2, 3, 4, 5, 1]
    other = "g/a" if before.instance == "g/b" else "g/b"  # round robin: c2 gets the other one
    assert [s.instance for s in stamped] == [other, before.instance, other, "g/a", before.instance]
    assert [s.text for s in stamped] == [None, None, None, None, '{"n": 0}']
    assert {s.epoch for s in stamped} == {before.epoch}
    logged = await redis_client.hmget(keys.event_log("app"), ["last", "ev:2", "ev:5"])
    assert logged == [b"5", b'{"n": 1}', b'{"n": 4}']
    assert await redis_client.ttl(keys.assignment("app", "c2")) <= 60  # ended: kept a minute only


async def test_nobody_live_means_none_of_the_events_is_numbered(redis_client: Redis, keys: Keyspace) -> None:
    log = EventLog(redis_client, keys)
    assert await log.stamp_many("app", [ToStamp("c", "{}"), ToStamp("d", "{}")], now=time.time()) is None
    await live(redis_client, keys, "g/a")
    stamped = await log.stamp_many("app", [ToStamp("c", "{}")], now=time.time())
    assert stamped is not None and [s.seq for s in stamped] == [1]


async def test_resume_replays_what_went_to_the_old_connection_and_takes_it_over(
    redis_client: Redis, keys: Keyspace
) -> None:
    log = EventLog(redis_client, keys)
    await live(redis_client, keys, "g/old", "g/other")
    for i in range(6):  # calls 0, 2, 4 on g/other; 1, 3, 5 on g/old (round robin from turn 1)
        await log.stamp("app", f"c{i}", f'{{"i": {i}}}', now=time.time())
    mine = {s: i for s, i in zip(range(1, 7), range(6), strict=True) if i % 2 == 1}
    await live(redis_client, keys, "g/new")
    replay = (await log.resume("app", 2, "g/new", time.time())).events
    assert [seq for seq, _ in replay] == [s for s in mine if s > 2]  # g/old had 2: it is the client
    assert replay[0][1] == '{"i": 3, "ariscale_seq": 4}'
    live_until = await redis_client.zscore(keys.instances("app"), "g/old")
    assert live_until is not None and live_until <= time.time()  # not live any more
    # What went to live connections (the replay's now the new one's) is nobody else's to replay.
    await live(redis_client, keys, "g/late")
    assert (await log.resume("app", 2, "g/late", time.time())).events == []
    # Its calls now go to a live instance.
    moved = await log.stamp("app", "c1", "{}", now=time.time())
    assert moved is not None and moved.instance in {"g/new", "g/other"} and moved.previous == "g/old"


async def test_resume_after_what_is_kept_or_ahead_of_the_count_is_refused(
    redis_client: Redis, keys: Keyspace
) -> None:
    log = EventLog(redis_client, keys, keep=5)
    await live(redis_client, keys, "g/a")
    for _ in range(12):
        await log.stamp("app", "c", "{}", now=time.time())
    await log.check("app", 7)  # 8..12 kept
    with pytest.raises(ResumeExpired) as expired:
        await log.check("app", 6)
    assert expired.value.status == 410 and expired.value.details == {"after": 6, "last": 12, "oldest_kept": 8}
    with pytest.raises(SequenceUnknown) as ahead:
        await log.resume("app", 13, "g/a", time.time())
    assert ahead.value.status == 400
    assert [seq for seq, _ in (await log.resume("app", 7, "g/a", time.time())).events] == [8, 9, 10, 11, 12]
    assert len(await redis_client.hkeys(keys.event_log("app"))) == 3 + 2 * 5  # last, first, epoch, 5 events


async def test_a_log_lost_with_redis_s_data_starts_a_new_epoch(redis_client: Redis, keys: Keyspace) -> None:
    """The count restarts at 1 when the log is gone; its epoch tells the new 1 from the old one."""
    log = EventLog(redis_client, keys)
    await live(redis_client, keys, "g/a")
    before = [s for _ in range(3) if (s := await log.stamp("app", "c", "{}", now=time.time()))]
    epoch = before[0].epoch
    assert epoch is not None and [(s.seq, s.epoch) for s in before] == [(1, epoch), (2, epoch), (3, epoch)]
    assert (await log.resume("app", 3, "g/a", time.time())).epoch == epoch
    # As Redis restarted without its data: every key of ours gone (not FLUSHALL: the server is shared).
    await redis_client.delete(*[k async for k in redis_client.scan_iter(match=f"{keys.prefix}*")])
    await live(redis_client, keys, "g/a")  # the gateway renews its instance; the log stays lost
    again = await log.stamp("app", "c", "{}", now=time.time())
    assert again is not None and again.seq == 1 and again.epoch not in {None, epoch}
