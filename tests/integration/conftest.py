"""The integration level: one real server per boundary, started (or borrowed) once per session.

Two sections: the registry's servers (first) and the gateway events' servers (``events_*``).

* Consul: our own ``consul agent -dev`` on the ports of a ClusterSpec at port base 26000
  (``ARISCALE_ITEST_PORT_BASE``), in a temporary state dir; stopped at the end.
* PostgreSQL: the machine's server (127.0.0.1:5432, user postgres, trust auth); we only create a
  uniquely named database for the session and drop it at the end. The server is never reconfigured.
* Kamailio and one Asterisk node: started on first use from the same ClusterSpec.

Tests isolate themselves with their own KV prefix, app names, extensions and node ids.
"""

import asyncio as _asyncio
import os
import os as _os
import shutil
import shutil as _shutil
import subprocess as _subprocess
import tempfile
import tempfile as _tempfile
import uuid
import uuid as _uuid
from collections.abc import AsyncIterator, Callable, Iterator
from collections.abc import AsyncIterator as _AsyncIterator
from collections.abc import Awaitable as _Awaitable
from collections.abc import Callable as _Callable
from collections.abc import Iterator as _Iterator
from pathlib import Path
from pathlib import Path as _Path

import asyncpg  # type: ignore[import-untyped]
import consul as _consul
import httpx
import httpx as _httpx
import pytest
import pytest as _pytest
import redis as _redis

from ariscale_cluster import ClusterSpec, asterisk, backing, consul, kamailio
from ariscale_cluster import ClusterSpec as _ClusterSpec
from ariscale_cluster import backing as _backing
from ariscale_cluster import consul as _cluster_consul
from ariscale_cluster.cluster import wait_until
from ariscale_cluster.cluster import wait_until as _wait_until
from ariscale_cluster.processes import ProcessTable
from ariscale_common import AmqpSettings, ConsulSettings, RedisSettings
from ariscale_common.discovery import AppRecord, app_key
from ariscale_common.passwords import generate_password, hash_password
from gateway.settings import Settings as GatewaySettings
from tests.integration.gateway.events_harness import BusPublisher, GatewayServer

# ---------------------------------------------------------------------------------------------
# Registry (tests/integration/registry/): own Consul (port base ARISCALE_ITEST_PORT_BASE, default
# 26000), a PostgreSQL database of our own, Kamailio and one Asterisk started on first use.
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Gateway events (tests/integration/gateway/test_events_*.py). Everything here is prefixed
# ``events_``: own Consul agent (port base ARISCALE_ITEST_EVENTS_PORT_BASE, default 26500), own
# RabbitMQ vhost, own Redis key prefix per test, own app names.
# ---------------------------------------------------------------------------------------------

EVENTS_REDIS_URL = "redis://127.0.0.1:6379/3"


@_pytest.fixture(scope="session")
def events_amqp_url() -> _Iterator[str]:
    """A RabbitMQ vhost of our own on the machine's broker, deleted at the end."""
    vhost = f"ariscale-events-{_uuid.uuid4().hex[:8]}"
    for args in (("add_vhost", vhost), ("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")):
        result = _backing.rabbitmqctl(*args)
        assert result.returncode == 0, result.stderr
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    _backing.rabbitmqctl("delete_vhost", vhost)


@_pytest.fixture(scope="session")
def events_consul_url() -> _Iterator[str]:
    """Our own ``consul agent -dev``, on the ports of a ClusterSpec; stopped at the end."""
    state_dir = _Path(_tempfile.mkdtemp(prefix="ariscale-itest-events-"))
    spec = _ClusterSpec(
        state_dir=state_dir,
        port_base=int(_os.environ.get("ARISCALE_ITEST_EVENTS_PORT_BASE", "26500")),
        node_count=1,
    )
    log = (state_dir / "consul.log").open("wb")
    proc = _subprocess.Popen(_cluster_consul.consul_argv(spec), stdout=log, stderr=_subprocess.STDOUT)

    def leader() -> bool:
        try:
            return bool(_httpx.get(f"{spec.consul_url}/v1/status/leader", timeout=1).json())
        except _httpx.HTTPError:
            return False

    try:
        if not _wait_until(leader, 30):
            raise RuntimeError(f"consul did not start: {(state_dir / 'consul.log').read_text()[-2000:]}")
        yield spec.consul_url
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
        _shutil.rmtree(state_dir, ignore_errors=True)


@_pytest.fixture(scope="session")
def events_kv_prefix() -> str:
    return f"ariscale-events-{_uuid.uuid4().hex[:6]}/"


@_pytest.fixture
def events_redis_prefix() -> _Iterator[str]:
    prefix = f"ariscale-events-{_uuid.uuid4().hex[:8]}:"
    yield prefix
    client = _redis.Redis.from_url(EVENTS_REDIS_URL)
    with client:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)


@_pytest.fixture
def events_redis(events_redis_prefix: str) -> _Iterator[_redis.Redis]:
    client = _redis.Redis.from_url(EVENTS_REDIS_URL)
    with client:
        yield client


@_pytest.fixture
def events_app(events_consul_url: str, events_kv_prefix: str) -> _Callable[[], tuple[str, str]]:
    """Registers a fresh app (as the registry would mirror it into Consul); returns name, password."""
    host, port = events_consul_url.removeprefix("http://").split(":")
    client = _consul.Consul(host=host, port=int(port))

    def register() -> tuple[str, str]:
        name, password = f"ev{_uuid.uuid4().hex[:8]}", generate_password()
        record = AppRecord(name=name, password_hash=hash_password(password))
        client.kv.put(app_key(events_kv_prefix, name), record.model_dump_json())
        return name, password

    return register


@_pytest.fixture
def events_settings(
    events_amqp_url: str, events_consul_url: str, events_kv_prefix: str, events_redis_prefix: str
) -> _Callable[..., GatewaySettings]:
    def settings(gateway_id: str, **overrides: object) -> GatewaySettings:
        fields: dict[str, object] = {
            "redis": RedisSettings(url=EVENTS_REDIS_URL, key_prefix=events_redis_prefix),
            "amqp": AmqpSettings(url=events_amqp_url),
            "consul": ConsulSettings(url=events_consul_url, kv_prefix=events_kv_prefix),
            "gateway_id": gateway_id,
        }
        return GatewaySettings.model_validate({**fields, **overrides})

    return settings


@_pytest.fixture
async def start_gateway(
    events_settings: _Callable[..., GatewaySettings],
) -> _AsyncIterator[_Callable[..., _Awaitable[GatewayServer]]]:
    """Starts gateways side by side (each as it would run in its own process); stops them after."""
    started: list[GatewayServer] = []

    async def start(gateway_id: str, **overrides: object) -> GatewayServer:
        server = GatewayServer(events_settings(gateway_id, **overrides))
        await _asyncio.to_thread(server.start)
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        await _asyncio.to_thread(server.stop)


@_pytest.fixture(scope="session")
def bus_publisher(events_amqp_url: str) -> _Iterator[BusPublisher]:
    publisher = BusPublisher(events_amqp_url)
    yield publisher
    publisher.close()
