"""The gateway reports its Redis link in /health, and heals when Redis comes back."""

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from ariscale_common import RedisSettings
from tests.integration.gateway.conftest import OwnRedis
from tests.integration.gateway.events_harness import GatewayServer
from tests.support.waiting import until


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
