"""The conference app (extension 8000, bridge ``conf``) from a test's side."""

import httpx

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
