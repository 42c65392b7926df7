"""The end-to-end level: one real cluster for the whole session, isolated from ``make up``.

Own ports (base 23000, or ARISCALE_TEST_PORT_BASE), own state dir and Consul agent, own RabbitMQ
vhost, own Redis database and key prefix. Torn down at the end of the session; with
ARISCALE_TEST_KEEP_STATE set, its state dir (logs of every process) is left in /tmp.
"""

import contextlib
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from ariscale_cluster import Cluster, ClusterSpec, backing
from ariscale_cluster.envfile import cluster_env
from ariscale_cluster.extra_gateway import start_extra_gateway, stop_extra_gateway
from tests.support.ari import AppEvents
from tests.support.bridges import until_nodes_empty
from tests.support.callers import Callers, callers
from tests.support.cluster_apps import ClusterApps, FreshApp
from tests.support.gateway import accepts_app, sees_nodes
from tests.support.markers import mark_folder
from tests.support.node_agent import served
from tests.support.waiting import until

# A SIP destination nobody answers: channels created towards it stay put until hung up.
BLACK_HOLE = "PJSIP/cluster/sip:nobody@127.0.0.1:9"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_folder(items, Path(__file__).parent, pytest.mark.e2e)


@contextlib.contextmanager
def running_cluster(
    port_base: int, node_count: int, runtime: str = "native", **spec_fields: Any
) -> Iterator[Cluster]:
    """A real cluster of our own on ``port_base``, torn down (and its traces removed) after;
    ``spec_fields`` override the spec's (e.g. ``redis_url``, ``amqp_port`` of servers of its own)."""
    state_dir = Path(tempfile.mkdtemp(prefix="ariscale-test-"))
    fields: dict[str, Any] = {
        "redis_url": "redis://127.0.0.1:6379/2",
        "redis_key_prefix": f"ariscale-test-{uuid.uuid4().hex[:6]}:",
        "amqp_vhost": f"ariscale-test-{port_base}",
        "admin_token": secrets.token_urlsafe(16),
        **spec_fields,
    }
    spec = ClusterSpec(
        state_dir=state_dir, port_base=port_base, node_count=node_count, runtime=runtime, **fields
    )
    cluster = Cluster(spec)
    try:
        cluster.up()
        yield cluster
    finally:
        cluster.down()
        backing.delete_vhost(spec)
        _forget_redis_keys(spec)
        shutil.rmtree(spec.rootfs / spec.chroot_cluster_dir.lstrip("/"), ignore_errors=True)
        if not os.environ.get("ARISCALE_TEST_KEEP_STATE"):
            shutil.rmtree(state_dir, ignore_errors=True)


TEST_PORT_BASE = int(os.environ.get("ARISCALE_TEST_PORT_BASE", "23000"))


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    with running_cluster(TEST_PORT_BASE, node_count=2) as started:
        yield started


@pytest.fixture(scope="module")
def three_node_cluster() -> Iterator[Cluster]:
    """A second, 3-node cluster (ports 2000 above the session's), for the tests that need it."""
    with running_cluster(TEST_PORT_BASE + 2000, node_count=3) as started:
        yield started


@pytest.fixture
def restores_cluster(cluster: Cluster) -> Iterator[Cluster]:
    """Whatever the test does to a component, ``up`` brings the cluster back afterwards."""
    try:
        yield cluster
    finally:
        cluster.up()


@pytest.fixture
def supervised(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster with its supervisor running for the test (stopped after it)."""
    cluster.start_supervisor()
    try:
        yield cluster
    finally:
        cluster.procs.stop("supervisor")
        (cluster.spec.state_dir / "restarts.json").unlink(missing_ok=True)
        cluster.up()


@pytest.fixture
def cluster_env_vars(cluster: Cluster) -> dict[str, str]:
    """The same KEY=VALUE set ``make up`` writes to ``.cluster/env``."""
    return cluster_env(cluster.spec)


@pytest.fixture
def ari_auth(cluster: Cluster) -> tuple[str, str]:
    return (cluster.spec.ari_user, cluster.spec.ari_password)


@pytest.fixture
def node_aris(cluster: Cluster) -> dict[str, str]:
    return {node.node_id: node.ari_url for node in cluster.spec.nodes}


@pytest.fixture
def sip_edge(cluster: Cluster) -> str:
    return f"127.0.0.1:{cluster.spec.sip_edge_port}"


@pytest.fixture
def app_name() -> str:
    """A fresh app name per test, so tests never see each other's events."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def extension() -> str:
    """A fresh dialed number per test."""
    return f"9{secrets.randbelow(10**6):06d}"


def _forget_redis_keys(spec: ClusterSpec) -> None:
    client = redis.Redis.from_url(spec.redis_url)
    with client:
        keys = list(client.scan_iter(match=f"{spec.redis_key_prefix}*"))
        if keys:
            client.delete(*keys)


# -- apps registered through the registry, as an operator would -----------------------------------


@dataclass(frozen=True)
class RegisteredApp:
    name: str
    password: str
    extension: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.name, self.password)


@pytest.fixture
async def registry(cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client of the cluster's registry."""
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{cluster.spec.registry_port}",
        headers={"Authorization": f"Bearer {cluster.spec.admin_token}"},
        timeout=10,
    ) as client:
        yield client


@pytest.fixture
async def registered_app(
    registry: httpx.AsyncClient,
    app_name: str,
    extension: str,
    node_aris: dict[str, str],
    ari_auth: tuple[str, str],
) -> AsyncIterator[RegisteredApp]:
    """A fresh app with one extension, registered for the test (served by every node before it
    starts) and deleted after it."""
    response = await registry.post("/apps", json={"name": app_name, "extensions": [extension]})
    assert response.status_code == 201, response.text
    for ari_url in node_aris.values():
        await until(partial(served, ari_url, ari_auth, app_name, extension), message=f"{app_name} served")
    yield RegisteredApp(app_name, response.json()["credentials"]["password"], extension)
    await registry.delete(f"/apps/{app_name}")


@dataclass
class OtherApp:
    """App B, registered beside the test's app A, with ARI through the gateway as B."""

    name: str
    extension: str
    client: httpx.AsyncClient
    password: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.name, self.password)


@pytest.fixture
async def other_app(
    registry: httpx.AsyncClient, registered_app: RegisteredApp, gateway_url: str
) -> AsyncIterator[OtherApp]:
    """App B: registered beside A, with a number of its own; deleted after the test."""
    name, extension = f"{registered_app.name}-b", f"8{registered_app.extension[1:]}"
    created = await registry.post("/apps", json={"name": name, "extensions": [extension]})
    assert created.status_code == 201, created.text
    auth = (name, created.json()["credentials"]["password"])
    try:
        async with httpx.AsyncClient(base_url=f"{gateway_url}/ari", auth=auth, timeout=20) as client:
            await until(lambda: accepts_app(client), message="gateway accepts app B")
            yield OtherApp(name, extension, client, auth[1])
    finally:
        await registry.delete(f"/apps/{name}")


@pytest.fixture
def gateway_url(cluster: Cluster) -> str:
    return f"http://127.0.0.1:{cluster.spec.gateway_port}"


@pytest.fixture
async def second_gateway_url(cluster: Cluster, registered_app: RegisteredApp) -> AsyncIterator[str]:
    """Another gateway process (``gateway-2``) on the cluster, accepting the app; stopped after
    (if still alive)."""
    url = start_extra_gateway(cluster, cluster.spec.port_base + 91)
    async with httpx.AsyncClient(base_url=f"{url}/ari", auth=registered_app.auth, timeout=10) as client:
        await until(lambda: accepts_app(client), message="second gateway accepts the app")
    yield url
    stop_extra_gateway(cluster)


# -- an app's view through the gateway, and each node's own -------------------------------------


@pytest.fixture
async def app_events(gateway_url: str, registered_app: RegisteredApp) -> AsyncIterator[AppEvents]:
    """The app connected at the gateway (an app without a connected instance has its calls hung up)."""
    async with httpx.AsyncClient(base_url=f"{gateway_url}/ari", auth=registered_app.auth, timeout=10) as c:
        await until(lambda: accepts_app(c), timeout=10, message="gateway accepts the new app")
    async with AppEvents(gateway_url, registered_app.auth).running() as events:
        yield events


@pytest.fixture
async def gw(
    cluster: Cluster, gateway_url: str, registered_app: RegisteredApp, app_events: AppEvents
) -> AsyncIterator[httpx.AsyncClient]:
    """ARI through the gateway as the registered app, connected (see ``app_events``), with every
    node up in the gateway's view (a node an earlier test restarted may take a few seconds)."""
    every_node_up = {node.node_id: "up" for node in cluster.spec.nodes}
    await until(lambda: sees_nodes(gateway_url, every_node_up), message=f"the gateway sees {every_node_up}")
    async with httpx.AsyncClient(base_url=f"{gateway_url}/ari", auth=registered_app.auth, timeout=20) as c:
        yield c


@pytest.fixture
async def nodes(
    node_aris: dict[str, str], ari_auth: tuple[str, str]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Each node's own ARI, to check what really exists where."""
    clients = {n: httpx.AsyncClient(base_url=url, auth=ari_auth, timeout=10) for n, url in node_aris.items()}
    yield clients
    for client in clients.values():
        await client.aclose()


@pytest.fixture
async def app_callers(
    gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], sip_edge: str, registered_app: RegisteredApp
) -> AsyncIterator[Callers]:
    """SIP callers into the registered app; afterwards every call is hung up and every node empty."""
    async with callers(gw, sip_edge, registered_app.extension) as group:
        yield group
    # A test that failed half-way leaves its bridges: remove them as the app would, so that the
    # next test starts from empty nodes instead of failing too.
    for bridge in (await gw.get("/bridges")).json():
        await gw.delete(f"/bridges/{bridge['id']}")
    await until_nodes_empty(nodes)


# -- node agent -----------------------------------------------------------------------------------


@pytest.fixture
async def cluster_apps(cluster: Cluster) -> AsyncIterator[ClusterApps]:
    """Apps registered through the cluster's registry; deleted again after the test."""
    spec = cluster.spec
    apps = ClusterApps(spec.consul_url, f"http://127.0.0.1:{spec.registry_port}", spec.admin_token)
    try:
        yield apps
    finally:
        await apps.aclose()


@pytest.fixture
def fresh_app(
    cluster_apps: ClusterApps,
    app_name: str,
    extension: str,
    node_aris: dict[str, str],
    ari_auth: tuple[str, str],
) -> FreshApp:
    """A fresh app name and number, registered only when the test says so (deleted after it)."""
    return FreshApp(app_name, extension, cluster_apps, node_aris, ari_auth)


# -- the conference app (conf_app registers itself as app "conf") -------------------------------


@pytest.fixture
async def conf_password(cluster: Cluster) -> str:
    """The password conf_app got when it registered itself, from where the SDK finds it."""
    path = cluster.spec.state_dir / "credentials" / "conf"
    await until(path.exists, timeout=20, message="conf_app registered itself")
    return path.read_text().strip()


@pytest.fixture
async def conf_gw(gateway_url: str, conf_password: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"{gateway_url}/ari", auth=("conf", conf_password), timeout=15
    ) as c:
        yield c


@pytest.fixture
async def conf_api(cluster: Cluster, conf_password: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{cluster.spec.conf_app_port}", timeout=15) as c:
        yield c
