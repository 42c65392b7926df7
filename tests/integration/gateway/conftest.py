"""The gateway's servers: its own Consul agent, RabbitMQ vhost, Redis key prefix and app names.

* Consul: our own ``consul agent -dev`` (port base ``ARISCALE_ITEST_EVENTS_PORT_BASE``, default
  26500), in a temporary state dir; stopped at the end.
* RabbitMQ: a vhost of our own on the machine's broker, deleted at the end.
* Redis: the machine's server, db 3, a key prefix per test, deleted after it.
* Gateways: started in-process, side by side, each as it would run in its own process.
"""

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import consul
import httpx
import pytest
import redis

from ariscale_cluster import consul as consul_launch
from ariscale_cluster.cluster import wait_until
from ariscale_common import AmqpSettings, ConsulSettings, RedisSettings
from ariscale_common.discovery import AppRecord, app_key, mirrored_key
from ariscale_common.keyspace import Keyspace
from ariscale_common.passwords import generate_password, hash_password
from gateway.settings import Settings as GatewaySettings
from tests.integration.gateway.events_harness import BusPublisher, GatewayServer
from tests.support.servers import scratch_spec

EVENTS_REDIS_URL = "redis://127.0.0.1:6379/3"

StartGateway = Callable[..., Awaitable[GatewayServer]]
NewApp = Callable[[], tuple[str, str]]
LiveCount = Callable[[str], int]


@pytest.fixture(scope="session")
def events_consul_url() -> Iterator[str]:
    """Our own ``consul agent -dev``, on the ports of a ClusterSpec; stopped at the end."""
    spec = scratch_spec("ARISCALE_ITEST_EVENTS_PORT_BASE", 26500, "ariscale-itest-events-")
    state_dir = spec.state_dir
    log = (state_dir / "consul.log").open("wb")
    proc = subprocess.Popen(consul_launch.consul_argv(spec), stdout=log, stderr=subprocess.STDOUT)

    def leader() -> bool:
        try:
            return bool(httpx.get(f"{spec.consul_url}/v1/status/leader", timeout=1).json())
        except httpx.HTTPError:
            return False

    try:
        if not wait_until(leader, 30):
            raise RuntimeError(f"consul did not start: {(state_dir / 'consul.log').read_text()[-2000:]}")
        yield spec.consul_url
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
        shutil.rmtree(state_dir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A redis-server of the test's own (never the machine's), that the test may stop."""

    def __init__(self, password: str = "") -> None:
        self.port = free_port()
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no"]
        if self.password:
            argv += ["--requirepass", self.password]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture(scope="session")
def events_kv_prefix() -> str:
    return f"ariscale-events-{uuid.uuid4().hex[:6]}/"


@pytest.fixture
def events_redis_prefix() -> Iterator[str]:
    prefix = f"ariscale-events-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(EVENTS_REDIS_URL)
    with client:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def events_redis(events_redis_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(EVENTS_REDIS_URL)
    with client:
        yield client


@pytest.fixture
def live(events_redis: redis.Redis, events_redis_prefix: str) -> LiveCount:
    """How many live instances an app has, as the registry would read it."""

    def count(app: str) -> int:
        return int(
            events_redis.zcount(Keyspace(events_redis_prefix).instances(app), f"({time.time()}", "+inf")
        )

    return count


@pytest.fixture
def events_app(events_consul_url: str, events_kv_prefix: str) -> Callable[[], tuple[str, str]]:
    """Registers a fresh app (as the registry would mirror it into Consul); returns name, password."""
    host, port = events_consul_url.removeprefix("http://").split(":")
    client = consul.Consul(host=host, port=int(port))

    def register() -> tuple[str, str]:
        name, password = f"ev{uuid.uuid4().hex[:8]}", generate_password()
        record = AppRecord(name=name, password_hash=hash_password(password))
        client.kv.put(app_key(events_kv_prefix, name), record.model_dump_json())
        client.kv.put(mirrored_key(events_kv_prefix), "{}")  # the registry's mark: a mirror
        return name, password

    return register


@pytest.fixture
def events_settings(
    events_amqp_url: str, events_consul_url: str, events_kv_prefix: str, events_redis_prefix: str
) -> Callable[..., GatewaySettings]:
    def settings(gateway_id: str, **overrides: object) -> GatewaySettings:
        fields: dict[str, object] = {
            "redis": RedisSettings(url=EVENTS_REDIS_URL, key_prefix=events_redis_prefix),
            "amqp": AmqpSettings(url=events_amqp_url),
            "consul": ConsulSettings(url=events_consul_url, kv_prefix=events_kv_prefix),
            "gateway_id": gateway_id,
        }
        return GatewaySettings.model_validate({**fields, **overrides})

    return settings


@pytest.fixture
async def start_gateway(
    events_settings: Callable[..., GatewaySettings],
) -> AsyncIterator[Callable[..., Awaitable[GatewayServer]]]:
    """Starts gateways side by side (each as it would run in its own process); stops them after."""
    started: list[GatewayServer] = []

    async def start(gateway_id: str, **overrides: object) -> GatewayServer:
        server = GatewayServer(events_settings(gateway_id, **overrides))
        await asyncio.to_thread(server.start)
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        await asyncio.to_thread(server.stop)


@pytest.fixture(scope="session")
def bus_publisher(events_amqp_url: str) -> Iterator[BusPublisher]:
    publisher = BusPublisher(events_amqp_url)
    yield publisher
    publisher.close()
