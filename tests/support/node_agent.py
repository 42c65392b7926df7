"""What a node agent did, seen from outside: the node's ARI state and the agent's /health."""

from typing import Any

import httpx

from ariscale_common.dialplan import app_variable


async def ari_get(ari_url: str, auth: tuple[str, str], path: str, **params: str) -> Any:
    async with httpx.AsyncClient(auth=auth, timeout=5) as client:
        response = await client.get(f"{ari_url}{path}", params=params)
        response.raise_for_status()
        return response.json()


async def _app_and_route(ari_url: str, auth: tuple[str, str], app: str, extension: str) -> tuple[bool, str]:
    apps = {a["name"] for a in await ari_get(ari_url, auth, "/applications")}
    variable = await ari_get(ari_url, auth, "/asterisk/variable", variable=app_variable(extension))
    return app in apps, str(variable["value"])


async def served(ari_url: str, auth: tuple[str, str], app: str, extension: str) -> bool:
    """The node has ``app`` subscribed and routes ``extension`` to it."""
    subscribed, routed_to = await _app_and_route(ari_url, auth, app, extension)
    return subscribed and routed_to == app


async def forgotten(ari_url: str, auth: tuple[str, str], app: str, extension: str) -> bool:
    """The node has no ``app`` and does not route ``extension``."""
    subscribed, routed_to = await _app_and_route(ari_url, auth, app, extension)
    return not subscribed and routed_to == ""


async def agent_health(agent_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{agent_url}/health")
        response.raise_for_status()
        health: dict[str, Any] = response.json()
        return health


async def link_state(agent_url: str, link: str) -> str | None:
    links = (await agent_health(agent_url))["links"]
    return str(links[link]["state"]) if link in links else None


async def agent_subscribed(agent_url: str, app: str) -> bool:
    """The agent's websocket for ``app`` is up."""
    return await link_state(agent_url, f"ari:{app}") == "up"


async def app_gone(ari_url: str, auth: tuple[str, str], app: str) -> bool:
    """Asterisk no longer has ``app`` (it drops an app with the websocket of its agent)."""
    async with httpx.AsyncClient(auth=auth, timeout=5) as client:
        response = await client.get(f"{ari_url}/applications/{app}")
    return response.status_code == 404
