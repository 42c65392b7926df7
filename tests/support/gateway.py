"""The gateway from a test's side: is an app accepted yet; a second gateway process beside it."""

import contextlib
from collections.abc import AsyncIterator

import httpx

from ariscale_cluster import Cluster
from ariscale_cluster.cluster import http_ok, wait_until
from ariscale_cluster.services import ServiceSpec, cluster_services, uvicorn_argv
from tests.support.waiting import until


def start_extra_gateway(
    cluster: Cluster, port: int, env: dict[str, str] | None = None, component: str = "gateway-2"
) -> str:
    """Start another gateway on ``port`` with the cluster's settings (``env`` on top); its URL."""
    base = next(s for s in cluster_services(cluster.spec) if s.component == "gateway")
    extra = ServiceSpec(component, base.factory, port, {**base.env, **(env or {})})
    cluster.procs.start(extra.component, uvicorn_argv(extra), extra.env)
    if not wait_until(lambda: http_ok(f"{extra.url}/health"), 30):
        raise AssertionError(f"second gateway did not start: {cluster.procs.log_path(extra.component)}")
    return extra.url


def stop_extra_gateway(cluster: Cluster, component: str = "gateway-2") -> None:
    cluster.procs.stop(component)


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
