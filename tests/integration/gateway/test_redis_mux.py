"""The gateway's multiplexed Redis client against a real redis-server of the test's own.

Every reply must reach the command that asked for it, whatever else is in flight, cancelled,
refused or cut off; and the client must behave as redis-py's does (replies, errors, retries).
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError, NoScriptError, ResponseError, TimeoutError

from ariscale_common import RedisSettings
from gateway import redis_mux
from gateway.redis_mux import MultiplexedRedis
from tests.integration.gateway.conftest import OwnRedis
from tests.support.waiting import until

# Holds Redis busy for ``ARGV[1]`` ms (Redis runs one command at a time): what comes after waits.
SPIN = """
local t = redis.call('TIME')
local start = t[1] * 1000 + t[2] / 1000
repeat
  t = redis.call('TIME')
until t[1] * 1000 + t[2] / 1000 - start >= tonumber(ARGV[1])
return ARGV[2]
"""


async def answering(url: str) -> bool:
    plain = aioredis.Redis.from_url(url)
    try:
        return bool(await plain.ping())
    except ConnectionError:
        return False
    finally:
        await plain.aclose()


@pytest.fixture
async def secured_redis() -> AsyncIterator[OwnRedis]:
    server = OwnRedis(password="s3cret")
    server.start()
    await until(lambda: answering(server.url()), message="redis-server up")
    yield server
    server.stop()


@pytest.fixture
async def mux(secured_redis: OwnRedis) -> AsyncIterator[MultiplexedRedis]:
    client = RedisSettings(url=secured_redis.url(db=2)).client(MultiplexedRedis)
    assert isinstance(client, MultiplexedRedis)
    yield client
    await client.aclose()


@pytest.fixture
async def plain(secured_redis: OwnRedis) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(secured_redis.url(db=2))
    yield client
    await client.aclose()


async def test_replies_are_redis_pys_and_land_in_the_selected_database(
    mux: MultiplexedRedis, plain: aioredis.Redis
) -> None:
    assert await mux.set("k", "v") is True
    assert await mux.set("k", "w", nx=True) is None  # redis-py's callback for SET, options and all
    assert await mux.get("k") == b"v"
    assert await mux.get("absent") is None
    assert await mux.zadd("z", {"a": 1.5}) == 1
    assert await mux.zrangebyscore("z", "-inf", "+inf", withscores=True) == [(b"a", 1.5)]
    assert await plain.get("k") == b"v"  # db 2, after AUTH


async def test_concurrent_commands_each_get_their_own_reply(mux: MultiplexedRedis) -> None:
    counts = await asyncio.gather(*(mux.incr("n") for _ in range(300)))
    assert counts == list(range(1, 301))  # sent in order, answered in order, none swapped
    values = await asyncio.gather(*(mux.set(f"key{i}", i) for i in range(50)))
    assert all(values)
    got = await asyncio.gather(*(mux.get(f"key{i}") for i in range(50)))
    assert got == [str(i).encode() for i in range(50)]


async def test_an_error_reply_raises_redis_pys_error_and_the_link_goes_on(mux: MultiplexedRedis) -> None:
    await mux.set("text", "x")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await mux.hget("text", "field")
    with pytest.raises(NoScriptError):
        await mux.evalsha("0" * 40, 0)
    assert await mux.get("text") == b"x"


async def test_scripts_load_themselves_and_two_word_commands_work(mux: MultiplexedRedis) -> None:
    await mux.script_flush()
    script = mux.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert await script(keys=["s"], args=[5]) == 5  # NOSCRIPT first: redis-py's Script loads it
    assert await script(keys=["s"], args=[5]) == 10


async def test_a_cancelled_command_does_not_shift_the_replies_of_the_others(mux: MultiplexedRedis) -> None:
    await mux.set("a", "A")
    await mux.set("b", "B")
    spin = mux.register_script(SPIN)
    await spin(args=[1, "warm"])  # loaded: the next call is one EVALSHA
    busy = asyncio.ensure_future(spin(args=[300, "spun"]))
    await asyncio.sleep(0)  # sent: Redis is busy with it for 300 ms
    abandoned = asyncio.ensure_future(mux.get("a"))
    await asyncio.sleep(0)  # sent behind it
    abandoned.cancel()
    assert await mux.get("b") == b"B"  # "A" arrived first and went to nobody
    assert await busy == b"spun"
    assert abandoned.cancelled()


async def test_a_connection_the_server_kills_is_made_again_and_the_command_retried(
    mux: MultiplexedRedis, plain: aioredis.Redis
) -> None:
    await mux.set("k", "v")
    killed = await plain.execute_command(  # type: ignore[no-untyped-call]
        "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"
    )
    assert killed >= 1
    assert await mux.get("k") == b"v"


async def test_a_connection_killed_under_a_flood_of_commands_loses_none_of_them(
    mux: MultiplexedRedis, plain: aioredis.Redis
) -> None:
    value = b"v" * 20000  # 3,000 of them take a while to read: the kill comes midway
    await mux.set("k", value)
    flood = asyncio.gather(*(mux.get("k") for _ in range(3000)))
    await asyncio.sleep(0)  # all written
    killed = await plain.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")  # type: ignore[no-untyped-call]
    assert killed == 1
    assert await flood == [value] * 3000  # those cut off went again, on one new connection


async def test_commands_in_flight_when_redis_dies_fail_and_the_client_heals(
    secured_redis: OwnRedis, mux: MultiplexedRedis
) -> None:
    await mux.set("k", "v")
    spin = mux.register_script(SPIN)
    await spin(args=[1, "warm"])
    in_flight = asyncio.ensure_future(spin(args=[5000, "never"]))
    await asyncio.sleep(0.2)
    await asyncio.to_thread(secured_redis.stop)
    with pytest.raises(ConnectionError):
        await in_flight  # retried against a server that is gone, then given up
    await asyncio.to_thread(secured_redis.start)
    await until(lambda: answering(secured_redis.url()), message="redis-server back")
    assert await mux.set("k", "again") is True


async def test_a_silent_server_is_given_up_on_and_the_link_made_again(
    secured_redis: OwnRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_mux, "REPLY_DEADLINE_S", 0.2)
    client = MultiplexedRedis.from_url(secured_redis.url())  # no retry: the timeout itself shows
    try:
        spin = client.register_script(SPIN)
        await spin(args=[1, "warm"])
        with pytest.raises(TimeoutError):
            await spin(args=[1000, "late"])
        await until(lambda: answering(secured_redis.url()), message="Redis done spinning")
        assert await client.ping() is True  # a new link: the late reply cannot be taken for this one
    finally:
        await client.aclose()


async def test_pipelines_keep_redis_pys_own_connections(mux: MultiplexedRedis) -> None:
    async with mux.pipeline(transaction=True) as pipe:
        pipe.set("p", "1")
        pipe.incr("p")
        assert await pipe.execute() == [True, 2]
    assert await mux.get("p") == b"2"
