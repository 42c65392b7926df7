"""The fault tests' cluster: two nodes whose Redis and RabbitMQ are servers of its own (so a test
may restart them; the machine's are shared), for the whole folder (a cluster costs ~20 s).

Ports from ARISCALE_FAULTS_PORT_BASE (default: the e2e base + 1000, i.e. 24000): the cluster's
block, its Redis at +900, its RabbitMQ at +910 (+911 Erlang distribution). Each test restores
what it broke.
"""

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from ariscale_cluster import Cluster
from ariscale_cluster.processes import ProcessTable
from tests.e2e.conftest import TEST_PORT_BASE, RegisteredApp, running_cluster
from tests.support.backing_servers import OwnBroker, OwnRedis
from tests.support.bridges import until_nodes_empty
from tests.support.event_stream import SequencedApp
from tests.support.fault_calls import FaultCalls
from tests.support.gateway import accepts_app
from tests.support.waiting import until

FAULTS_PORT_BASE = int(os.environ.get("ARISCALE_FAULTS_PORT_BASE", str(TEST_PORT_BASE + 1000)))


@pytest.fixture(scope="package")
def servers_dir() -> Iterator[Path]:
    """Data, pid files and logs of the folder's own Redis and RabbitMQ."""
    path = Path(tempfile.mkdtemp(prefix="ariscale-faults-"))
    yield path
    if not os.environ.get("ARISCALE_TEST_KEEP_STATE"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="package")
def own_procs(servers_dir: Path) -> ProcessTable:
    return ProcessTable(servers_dir / "pids", servers_dir / "logs")


@pytest.fixture(scope="package")
def own_redis(own_procs: ProcessTable, servers_dir: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(own_procs, servers_dir / "redis", FAULTS_PORT_BASE + 900)
    server.start_now()
    yield server
    server.stop_now()


@pytest.fixture(scope="package")
def own_broker(own_procs: ProcessTable, servers_dir: Path) -> Iterator[OwnBroker]:
    server = OwnBroker(
        own_procs, servers_dir / "rabbitmq", FAULTS_PORT_BASE + 910, vhost=f"ariscale-test-{FAULTS_PORT_BASE}"
    )
    server.start_now()
    yield server
    server.stop_now()


@pytest.fixture(scope="package")
def cluster(own_redis: OwnRedis, own_broker: OwnBroker) -> Iterator[Cluster]:
    """This folder's cluster, in place of the session's."""
    with running_cluster(
        FAULTS_PORT_BASE, node_count=2, redis_url=own_redis.url, amqp_port=own_broker.port,
        amqp_vhost=own_broker.vhost,
    ) as started:  # fmt: skip
        yield started


@pytest.fixture
async def app(gateway_url: str, registered_app: RegisteredApp) -> AsyncIterator[SequencedApp]:
    """The registered app connected at the gateway, answering its calls; disconnected after."""
    async with httpx.AsyncClient(base_url=f"{gateway_url}/ari", auth=registered_app.auth, timeout=10) as c:
        await until(lambda: accepts_app(c), message="gateway accepts the app")
    sequenced = SequencedApp(registered_app.auth)
    await sequenced.connect(gateway_url)
    yield sequenced
    await sequenced.close()


@pytest.fixture
async def fault_calls(
    app: SequencedApp,
    gateway_url: str,
    sip_edge: str,
    registered_app: RegisteredApp,
    nodes: dict[str, httpx.AsyncClient],
) -> AsyncIterator[FaultCalls]:
    """Calls into ``app`` around a fault; afterwards no channel is left on any node."""
    async with httpx.AsyncClient(base_url=f"{gateway_url}/ari", auth=registered_app.auth, timeout=20) as gw:
        yield FaultCalls(app, sip_edge, registered_app.extension, gw, nodes)
    # A test that failed half-way leaves calls up: end them on the nodes, the truth.
    for client in nodes.values():
        for channel in (await client.get("/channels")).json():
            await client.delete(f"/channels/{channel['id']}")
    await until_nodes_empty(nodes)
