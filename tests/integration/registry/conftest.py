"""The registry's servers, and a registry per test driven in-process (httpx + ASGITransport).

Servers, started (or borrowed) once per session:

* Consul: our own ``consul agent -dev`` on the ports of a ClusterSpec at port base 26000
  (``ARISCALE_ITEST_PORT_BASE``), in a temporary state dir; stopped at the end.
* PostgreSQL: the machine's server (127.0.0.1:5432, user postgres, trust auth); we only create a
  uniquely named database for the session and drop it at the end. The server is never reconfigured.
* Kamailio and one Asterisk node: started on first use from the same ClusterSpec.

The whole suite runs twice: against a SQLite file and against a PostgreSQL database. Each test
gets its own Consul KV prefix, admin token, dispatcher list file, app names and extensions.
"""

import contextlib
import os
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from fastapi import FastAPI

from ariscale_cluster import ClusterSpec, asterisk, backing, consul, kamailio
from ariscale_cluster.cluster import wait_until
from ariscale_cluster.processes import ProcessTable
from ariscale_common import ConsulSettings
from ariscale_common.discovery import NODE_SERVICE
from registry.main import create_app
from registry.settings import Settings, SipEdgeSettings
from tests.support.servers import scratch_spec

POSTGRES_ADMIN_DSN = os.environ.get(
    "ARISCALE_ITEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def servers_spec() -> Iterator[ClusterSpec]:
    spec = scratch_spec("ARISCALE_ITEST_PORT_BASE", 26000, "ariscale-itest-")
    yield spec
    shutil.rmtree(spec.rootfs / spec.chroot_cluster_dir.lstrip("/"), ignore_errors=True)
    shutil.rmtree(spec.state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def processes(servers_spec: ClusterSpec) -> Iterator[ProcessTable]:
    table = ProcessTable(servers_spec.pid_dir, servers_spec.log_dir)
    yield table
    for component in table.components():
        table.stop(component)


def _http_ok(url: str, auth: tuple[str, str] | None = None) -> bool:
    try:
        response = httpx.get(url, auth=auth, timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.content not in (b"", b'""')


def _start(
    processes: ProcessTable, component: str, argv: list[str], ready: Callable[[], bool], port: int
) -> None:
    """Start ``argv`` and wait until ``ready``; refuse to borrow someone else's server on ``port``."""
    if backing.port_open("127.0.0.1", port):
        raise RuntimeError(
            f"port {port} is taken (another test session?): set ARISCALE_ITEST_PORT_BASE to a free base"
        )
    processes.start(component, argv)
    wait_until(lambda: ready() or processes.pid(component) is None, START_TIMEOUT)
    if processes.pid(component) is None or not ready():
        log = processes.log_path(component)
        raise RuntimeError(f"{component} did not start; its log ({log}):\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def consul_url(servers_spec: ClusterSpec, processes: ProcessTable) -> str:
    """A real Consul agent of our own (dev mode), with a leader."""
    url = servers_spec.consul_url
    _start(
        processes,
        "consul",
        consul.consul_argv(servers_spec),
        lambda: _http_ok(f"{url}/v1/status/leader"),
        servers_spec.consul_http_port,
    )
    return url


@pytest.fixture(scope="session")
def kamailio_edge(servers_spec: ClusterSpec, processes: ProcessTable) -> ClusterSpec:
    """A real Kamailio with the cluster's config; its list file and ctl socket per ``kamailio``."""
    cfg = kamailio.prepare(servers_spec)
    _start(
        processes,
        "kamailio",
        kamailio.kamailio_argv(servers_spec, cfg),
        lambda: kamailio.kamcmd(servers_spec, "core.version").returncode == 0,
        servers_spec.sip_edge_port,
    )
    return servers_spec


@pytest.fixture(scope="session")
def asterisk_ari(servers_spec: ClusterSpec, processes: ProcessTable) -> str:
    """One real Asterisk node (n1 of the spec); returns its ARI base URL."""
    node = servers_spec.nodes[0]
    asterisk.prepare_node(servers_spec, node)
    auth = (servers_spec.ari_user, servers_spec.ari_password)
    _start(
        processes,
        f"asterisk-{node.node_id}",
        asterisk.asterisk_argv(servers_spec, node),
        lambda: _http_ok(f"{node.ari_url}/asterisk/info", auth),
        node.ari_port,
    )
    return node.ari_url


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A fresh database on the machine's PostgreSQL, dropped at the end of the session."""
    name = f"ariscale_itest_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    yield f"{base}/{name}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('registry') / 'registry.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings(database_url: str, consul_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=secrets.token_urlsafe(16),
        consul=ConsulSettings(url=consul_url, kv_prefix=f"itest-{uuid.uuid4().hex[:8]}/"),
        sip_edge=SipEdgeSettings(
            dispatcher_list=str(tmp_path / "dispatcher.list"),
            ctl_socket=str(tmp_path / "no-kamailio.ctl"),
            poll_interval=0.2,
        ),
        kv_resync_interval=1.0,
        node_ari_timeout=1.0,
    )


@dataclass
class Registry:
    app: FastAPI
    client: httpx.AsyncClient  # already carries the admin token
    settings: Settings


@contextlib.asynccontextmanager
async def running_registry(settings: Settings) -> AsyncIterator[Registry]:
    """One registry process' worth: lifespan (migrations, background loops) and an HTTP client."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://registry",
            headers={"Authorization": f"Bearer {settings.admin_token}"},
        ) as client,
    ):
        yield Registry(app, client, settings)


@pytest.fixture
async def registry(settings: Settings) -> AsyncIterator[Registry]:
    async with running_registry(settings) as running:
        yield running


@pytest.fixture
def client(registry: Registry) -> httpx.AsyncClient:
    return registry.client


@pytest.fixture
async def consul_http(consul_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{consul_url}/v1", timeout=5) as http:
        yield http


@pytest.fixture
def app_name() -> str:
    return f"it-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def extension() -> str:
    return f"7{secrets.randbelow(10**7):07d}"


@pytest.fixture
def new_extension() -> Callable[[], str]:
    return lambda: f"7{secrets.randbelow(10**7):07d}"


class ConsulNodes:
    """Registers ``asterisk`` service instances directly in Consul, as node agents would."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.registered: list[str] = []

    async def register(
        self, node_id: str, sip_address: str, ari_url: str = "http://127.0.0.1:9/ari", passing: bool = True
    ) -> None:
        body: dict[str, Any] = {
            "ID": node_id,
            "Name": NODE_SERVICE,
            "Meta": {"ari_url": ari_url, "sip_address": sip_address, "asterisk_version": "22.10.1"},
            "Check": {"CheckID": f"ttl:{node_id}", "TTL": "60s"},
        }
        (await self.http.put("/agent/service/register", json=body)).raise_for_status()
        self.registered.append(node_id)
        await self.set_passing(node_id, passing)

    async def set_passing(self, node_id: str, passing: bool) -> None:
        verb = "pass" if passing else "fail"
        (await self.http.put(f"/agent/check/{verb}/ttl:{node_id}")).raise_for_status()

    async def deregister(self, node_id: str) -> None:
        (await self.http.put(f"/agent/service/deregister/{node_id}")).raise_for_status()


@pytest.fixture
async def consul_nodes(consul_http: httpx.AsyncClient) -> AsyncIterator[ConsulNodes]:
    nodes = ConsulNodes(consul_http)
    yield nodes
    for node_id in nodes.registered:
        await nodes.deregister(node_id)


@pytest.fixture
def node_id() -> str:
    return f"itn-{uuid.uuid4().hex[:6]}"


KvGet = Callable[[str], Awaitable[Any]]


@pytest.fixture
def kv_get(consul_http: httpx.AsyncClient, settings: Settings) -> KvGet:
    """The decoded JSON under ``<kv_prefix><key>``, or None when the key is absent."""

    async def get(key: str) -> Any:
        response = await consul_http.get(f"/kv/{settings.consul.kv_prefix}{key}", params={"raw": "1"})
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    return get
