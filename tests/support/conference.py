"""The conference app (extension 8000, bridge ``conf``) from a test's side."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests.support.audio import make_tone
from tests.support.sipp import SippResult, place_calls
from tests.support.waiting import until

CONFERENCE = "8000"


async def conference_members(conf_gw: httpx.AsyncClient) -> list[str]:
    bridge = await conf_gw.get("/bridges/conf")
    return list(bridge.json()["channels"]) if bridge.status_code == 200 else []


async def hang_up_all(conf_gw: httpx.AsyncClient) -> None:
    for channel in (await conf_gw.get("/channels")).json():
        await conf_gw.delete(f"/channels/{channel['id']}")


async def in_conference(conf_gw: httpx.AsyncClient, count: int) -> bool:
    return len(await conference_members(conf_gw)) == count


async def healthy(api: httpx.AsyncClient) -> bool:
    try:
        return (await api.get("/health")).status_code == 200
    except httpx.HTTPError:
        return False


async def connected(api: httpx.AsyncClient) -> bool:
    return (await api.get("/conferences")).status_code == 200


async def has_count(api: httpx.AsyncClient, count: int) -> bool:
    response = await api.get("/conferences/conf")
    return response.status_code == 200 and response.json()["count"] == count


CallerTask = asyncio.Task[SippResult]


@contextlib.asynccontextmanager
async def two_tone_callers(
    conf_api: httpx.AsyncClient, conf_gw: httpx.AsyncClient, sip_edge: str, tone_dir: Path
) -> AsyncIterator[tuple[CallerTask, CallerTask]]:
    """Callers ``tone-1000`` then ``tone-1500`` in the conference (the edge puts them on two nodes),
    each playing its tone for a minute; every channel is hung up after."""

    def call(tone: Path) -> CallerTask:
        return asyncio.create_task(place_calls(sip_edge, CONFERENCE, tone=tone, hold_ms=60000, timeout=90))

    low, high = make_tone(tone_dir / "tone-1000.ulaw", 1000), make_tone(tone_dir / "tone-1500.ulaw", 1500)
    calls = [call(low)]
    try:
        await until(lambda: has_count(conf_api, 1), timeout=20, message="first caller in")
        calls.append(call(high))
        await until(lambda: has_count(conf_api, 2), timeout=20, message="second caller in")
        yield calls[0], calls[1]
    finally:
        await hang_up_all(conf_gw)
        await asyncio.gather(*calls, return_exceptions=True)
