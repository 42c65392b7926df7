"""The gateway reports its Redis link in /health, and heals when Redis comes back."""

import asyncio
import socket
import subprocess
from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest

from ariscale_common import RedisSettings
from tests.integration.gateway.events_harness import GatewayServer
from tests.support.waiting import until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A redis-server of the test's own (never the machine's), that the test may stop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.stop()


async def redis_link(gateway: GatewayServer) -> str:
    async with httpx.AsyncClient() as client:
        health = (await client.get(f"{gateway.url}/health")).json()
    return str(health["links"].get("redis", {}).get("state"))


async def test_redis_outage_shows_in_health_answers_503_and_heals(
    own_redis: OwnRedis,
    start_gateway: Callable[..., Awaitable[GatewayServer]],
    events_app: Callable[[], tuple[str, str]],
) -> None:
    app, password = events_app()
    gateway = await start_gateway(
        "gw-health", redis=RedisSettings(url=f"redis://127.0.0.1:{own_redis.port}/0", key_prefix="health:")
    )
    await until(lambda: _state_is(gateway, "up"), message="redis up")
    await asyncio.to_thread(own_redis.stop)
    await until(lambda: _state_is(gateway, "down"), timeout=10, message="redis reported down")

    async def refused_503() -> bool:
        async with httpx.AsyncClient(auth=(app, password), timeout=15) as client:
            answer = await client.get(f"{gateway.url}/ari/channels/n1-1.1")
        return answer.status_code == 503 and answer.json()["error"] == "ownership-store-unavailable"

    await until(refused_503, message="a request needing Redis gets a 503 naming it, not a 500")
    await asyncio.to_thread(own_redis.start)
    await until(lambda: _state_is(gateway, "up"), timeout=15, message="redis reported up again")


async def _state_is(gateway: GatewayServer, state: str) -> bool:
    return await redis_link(gateway) == state
