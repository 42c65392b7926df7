"""The integration level: one real server per boundary, started (or borrowed) once per session."""

# ---------------------------------------------------------------------------------------------
# Gateway events (tests/integration/gateway/test_events_*.py). Everything here is prefixed
# ``events_``: own Consul agent (port base ARISCALE_ITEST_EVENTS_PORT_BASE, default 26500), own
# RabbitMQ vhost, own Redis key prefix per test, own app names.
# ---------------------------------------------------------------------------------------------

import asyncio as _asyncio
import os as _os
import shutil as _shutil
import subprocess as _subprocess
import tempfile as _tempfile
import uuid as _uuid
from collections.abc import AsyncIterator as _AsyncIterator
from collections.abc import Awaitable as _Awaitable
from collections.abc import Callable as _Callable
from collections.abc import Iterator as _Iterator
from pathlib import Path as _Path

import consul as _consul
import httpx as _httpx
import pytest as _pytest
import redis as _redis

from ariscale_cluster import ClusterSpec as _ClusterSpec
from ariscale_cluster import backing as _backing
from ariscale_cluster import consul as _cluster_consul
from ariscale_cluster.cluster import wait_until as _wait_until
from ariscale_common import AmqpSettings, ConsulSettings, RedisSettings
from ariscale_common.discovery import AppRecord, app_key
from ariscale_common.passwords import generate_password, hash_password
from gateway.settings import Settings as GatewaySettings
from tests.integration.gateway.events_harness import BusPublisher, GatewayServer

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
