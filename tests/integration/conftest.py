"""The integration level: one real server per boundary, started (or borrowed) once per session.

* Consul: our own ``consul agent -dev`` on the ports of a ClusterSpec at port base 26000
  (``ARISCALE_ITEST_PORT_BASE``), in a temporary state dir; stopped at the end.
* PostgreSQL: the machine's server (127.0.0.1:5432, user postgres, trust auth); we only create a
  uniquely named database for the session and drop it at the end. The server is never reconfigured.
* Kamailio and one Asterisk node: started on first use from the same ClusterSpec.

Tests isolate themselves with their own KV prefix, app names, extensions and node ids.
"""

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from ariscale_cluster import ClusterSpec, asterisk, backing, consul, kamailio
from ariscale_cluster.cluster import wait_until
from ariscale_cluster.processes import ProcessTable

POSTGRES_ADMIN_DSN = os.environ.get(
    "ARISCALE_ITEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def servers_spec() -> Iterator[ClusterSpec]:
    state_dir = Path(tempfile.mkdtemp(prefix="ariscale-itest-"))
    spec = ClusterSpec(
        state_dir=state_dir,
        port_base=int(os.environ.get("ARISCALE_ITEST_PORT_BASE", "26000")),
        node_count=1,
    )
    yield spec
    shutil.rmtree(spec.rootfs / spec.chroot_cluster_dir.lstrip("/"), ignore_errors=True)
    shutil.rmtree(state_dir, ignore_errors=True)


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
