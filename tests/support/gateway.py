"""The gateway from a test's side: is an app accepted yet, which nodes it sees; a second gateway
process beside it."""

import contextlib
from collections.abc import AsyncIterator

import httpx

from ariscale_cluster import Cluster
from ariscale_cluster.extra_gateway import start_extra_gateway, stop_extra_gateway
from tests.support.waiting import until


@contextlib.asynccontextmanager
async def second_gateway(
    cluster: Cluster, port: int, auth: tuple[str, str], timeout: float
) -> AsyncIterator[httpx.AsyncClient]:
    """ARI through a second gateway on ``port``, once it accepts the app ``auth`` names; stopped after."""
    url = start_extra_gateway(cluster, port)
    try:
        async with httpx.AsyncClient(base_url=f"{url}/ari", auth=auth, timeout=timeout) as client:
            await until(lambda: accepts_app(client), message="second gateway accepts the app")
            yield client
    finally:
        stop_extra_gateway(cluster)


async def accepts_app(client: httpx.AsyncClient, path: str = "/channels") -> bool:
    """The gateway knows the client's app (it learns new apps from Consul within about a second)."""
    return (await client.get(path)).status_code == 200


async def node_states(gateway_url: str) -> dict[str, str]:
    """The nodes the gateway routes to, as its /health shows them (node id → up, down, drained)."""
    async with httpx.AsyncClient(timeout=5) as client:
        return dict((await client.get(f"{gateway_url}/health")).json()["nodes"])


async def sees_nodes(gateway_url: str, states: dict[str, str]) -> bool:
    """Each node named in ``states`` is in its state in the gateway's view (``up``, ``down``,
    ``drained``); a restarted node takes a few seconds."""
    seen = await node_states(gateway_url)
    return all(seen.get(node) == state for node, state in states.items())


async def answers_get(client: httpx.AsyncClient, path: str, status: int) -> bool:
    """``GET path`` answers ``status`` (for waits on a resource coming or going)."""
    return (await client.get(path)).status_code == status
