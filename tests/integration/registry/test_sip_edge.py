"""The SIP edge follows the healthy, undrained nodes: list file, then a real Kamailio's live set.

Nodes are registered directly in our Consul with made-up SIP addresses (Kamailio does not probe
them here); the real Kamailio must load each new set within 5 s, without a restart, and answer
503 when the set is empty.
"""

import asyncio
import socket
import uuid
from pathlib import Path

import pytest

from ariscale_cluster import ClusterSpec, kamailio
from ariscale_common.sip_edge import DispatchTarget, parse_dispatcher_list
from registry.settings import Settings, SipEdgeSettings
from tests.integration.registry.conftest import ConsulNodes, Registry, running_registry
from tests.support.waiting import until

EDGE_DEADLINE = 5.0


def listed(path: Path) -> set[DispatchTarget]:
    return set(parse_dispatcher_list(path.read_text())) if path.exists() else set()


async def loaded_in_kamailio(spec: ClusterSpec) -> set[str]:
    """The URIs in Kamailio's live dispatch set (``dispatcher.list``)."""
    result = await asyncio.to_thread(kamailio.kamcmd, spec, "dispatcher.list")
    return {line.split("URI:", 1)[1].strip() for line in result.stdout.splitlines() if "URI:" in line}


async def test_list_file_follows_health_and_drain(
    registry: Registry, consul_nodes: ConsulNodes, node_id: str
) -> None:
    """File only (no Kamailio behind this registry: its reload fails and /health says so)."""
    path = Path(registry.settings.sip_edge.dispatcher_list)
    a, b = DispatchTarget(f"{node_id}-a", "127.0.0.1:5071"), DispatchTarget(f"{node_id}-b", "127.0.0.1:5072")
    await consul_nodes.register(a.node_id, a.sip_address)
    await consul_nodes.register(b.node_id, b.sip_address)
    await until(lambda: listed(path) == {a, b}, timeout=EDGE_DEADLINE, message="both nodes listed")

    await registry.client.post(f"/nodes/{a.node_id}/drain")
    await until(lambda: listed(path) == {b}, timeout=EDGE_DEADLINE, message="drained node gone")

    await consul_nodes.set_passing(b.node_id, False)
    await until(lambda: path.read_text() == "", timeout=EDGE_DEADLINE, message="an empty list")

    await registry.client.delete(f"/nodes/{a.node_id}/drain")
    await until(lambda: listed(path) == {a}, timeout=EDGE_DEADLINE, message="undrained node back")
    health = (await registry.client.get("/health")).json()
    assert health["links"]["sip-edge"]["state"] == "down"


@pytest.fixture
def edge_settings(settings: Settings, kamailio_edge: ClusterSpec) -> Settings:
    return settings.model_copy(
        update={
            "sip_edge": SipEdgeSettings(
                dispatcher_list=str(kamailio.dispatcher_list(kamailio_edge)),
                ctl_socket=str(kamailio.ctl_socket(kamailio_edge)),
                poll_interval=0.5,
            )
        }
    )


async def test_a_change_in_consul_reaches_the_list_without_a_poll(
    edge_settings: Settings, consul_nodes: ConsulNodes, node_id: str
) -> None:
    """A node registered, then failing its check: Consul's blocking query wakes the sync, which
    would otherwise look only once an hour here (with a real Kamailio: a failing reload would be
    retried, and each retry reads Consul)."""
    edge = edge_settings.sip_edge.model_copy(update={"poll_interval": 3600.0})
    settings = edge_settings.model_copy(update={"sip_edge": edge})
    path = Path(edge.dispatcher_list)
    a, b = DispatchTarget(f"{node_id}-a", "127.0.0.1:5073"), DispatchTarget(f"{node_id}-b", "127.0.0.1:5074")
    async with running_registry(settings):
        await consul_nodes.register(a.node_id, a.sip_address)
        await consul_nodes.register(b.node_id, b.sip_address)
        await until(lambda: listed(path) == {a, b}, timeout=EDGE_DEADLINE, message="both nodes listed")
        await consul_nodes.set_passing(a.node_id, False)
        await until(lambda: listed(path) == {b}, timeout=EDGE_DEADLINE, message="the failing node gone")


def sip_options_status(edge_port: int) -> int:
    """Send one SIP OPTIONS to the edge over UDP; return the status code of its answer."""
    branch, tag, call_id = (uuid.uuid4().hex for _ in range(3))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(3)
        port = sock.getsockname()[1]
        request = (
            f"OPTIONS sip:probe@127.0.0.1:{edge_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:itest@127.0.0.1:{port}>;tag={tag}\r\n"
            f"To: <sip:probe@127.0.0.1:{edge_port}>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(request.encode(), ("127.0.0.1", edge_port))
        while True:
            reply = sock.recv(65535).decode(errors="replace")
            status = int(reply.split(" ", 2)[1])
            if status >= 200:
                return status


async def test_kamailio_loads_each_new_set_without_restart(
    edge_settings: Settings, kamailio_edge: ClusterSpec, consul_nodes: ConsulNodes, node_id: str
) -> None:
    kamailio_pid = kamailio_edge.pid_dir / "kamailio.pid"
    pid_before = kamailio_pid.read_text()
    a, b = f"{node_id}-a", f"{node_id}-b"
    await consul_nodes.register(a, "127.0.0.1:5081")
    await consul_nodes.register(b, "127.0.0.1:5082")

    async with running_registry(edge_settings) as registry:

        async def loaded_soon(*addresses: str) -> None:
            expected = {f"sip:{x}" for x in addresses}

            async def check() -> bool:
                return await loaded_in_kamailio(kamailio_edge) == expected

            await until(
                check,
                timeout=EDGE_DEADLINE,
                message=f"Kamailio's set to become {sorted(expected)}",
            )

        await loaded_soon("127.0.0.1:5081", "127.0.0.1:5082")
        await registry.client.post(f"/nodes/{a}/drain")
        await loaded_soon("127.0.0.1:5082")
        await registry.client.delete(f"/nodes/{a}/drain")
        await loaded_soon("127.0.0.1:5081", "127.0.0.1:5082")
        await consul_nodes.set_passing(a, False)
        await loaded_soon("127.0.0.1:5082")

        await consul_nodes.set_passing(b, False)
        await loaded_soon()
        assert listed(Path(edge_settings.sip_edge.dispatcher_list)) == set()
        assert await asyncio.to_thread(sip_options_status, kamailio_edge.sip_edge_port) == 503

        health = (await registry.client.get("/health")).json()
        assert health["links"]["sip-edge"]["state"] == "up"
    assert kamailio_pid.read_text() == pid_before  # reloaded, never restarted
