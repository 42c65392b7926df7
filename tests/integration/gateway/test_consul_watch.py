"""The gateway's Consul watch against a real Consul agent: changes arrive by blocking queries
(no polling while nothing changes), nodes show in /health's report, and apps need the mirror mark."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import consul
import httpx
import pytest

from ariscale_common import Health, LinkState
from ariscale_common.discovery import AppRecord, app_key, drained_key, mirrored_key
from gateway.consul_watch import ConsulWatch
from tests.integration.gateway.fake_nodes import FakeNode, closed_port, registered
from tests.support.waiting import until


@pytest.fixture
def kv_prefix() -> str:
    return f"watch-{uuid.uuid4().hex[:8]}/"


@pytest.fixture
def kv(events_consul_url: str) -> consul.Consul:
    host, port = events_consul_url.removeprefix("http://").split(":")
    return consul.Consul(host=host, port=int(port))


@pytest.fixture
async def watch(events_consul_url: str, kv_prefix: str) -> AsyncIterator[tuple[ConsulWatch, Health]]:
    health = Health("gateway")
    started = ConsulWatch(events_consul_url, kv_prefix, health)
    await started.start()
    try:
        yield started, health
    finally:
        await started.stop()


async def test_node_health_and_drain_reach_the_snapshot_and_health(
    watch: tuple[ConsulWatch, Health], events_consul_url: str, kv: consul.Consul, kv_prefix: str
) -> None:
    consul_watch, health = watch
    with registered(FakeNode(events_consul_url, closed_port())) as node:
        await until(lambda: health.nodes.get(node.node_id) == "up", message="the node up")
        assert node.node_id in {n.node_id for n in consul_watch.healthy_nodes()}

        await asyncio.to_thread(node.fail)
        await until(lambda: health.nodes.get(node.node_id) == "down", message="the node down")
        assert node.node_id not in {n.node_id for n in consul_watch.healthy_nodes()}

        await asyncio.to_thread(node.register)  # passing again
        await asyncio.to_thread(kv.kv.put, drained_key(kv_prefix, node.node_id), '{"since": 0}')
        await until(lambda: health.nodes.get(node.node_id) == "drained", message="the node drained")
        assert consul_watch.snapshot.nodes[node.node_id].drained
    await until(lambda: node.node_id not in health.nodes, message="the node gone with its service")
    assert health.report().links["consul"].state is LinkState.UP


async def test_apps_count_only_under_the_registrys_mirror_mark(
    watch: tuple[ConsulWatch, Health], kv: consul.Consul, kv_prefix: str
) -> None:
    consul_watch, _ = watch
    record = AppRecord(name="watched", extensions=["8123"])
    await asyncio.to_thread(kv.kv.put, app_key(kv_prefix, record.name), record.model_dump_json())
    await asyncio.sleep(0.3)  # time for a wrong watch to take it
    assert consul_watch.snapshot.apps == {}  # no mark: Consul restarted empty, not the registry's list

    await asyncio.to_thread(kv.kv.put, mirrored_key(kv_prefix), "{}")
    await until(lambda: "watched" in consul_watch.snapshot.apps, message="the app in the snapshot")
    assert consul_watch.snapshot.apps["watched"].extensions == ["8123"]

    await asyncio.to_thread(kv.kv.put, app_key(kv_prefix, "broken"), "not json")
    await asyncio.to_thread(kv.kv.delete, app_key(kv_prefix, record.name))
    await until(lambda: consul_watch.snapshot.apps == {}, message="the app gone, the broken record skipped")


async def test_an_idle_watch_waits_for_consul_instead_of_polling(
    watch: tuple[ConsulWatch, Health], kv: consul.Consul, kv_prefix: str
) -> None:
    consul_watch, _ = watch
    answers: list[str] = []

    async def count(response: httpx.Response) -> None:
        if response.request.url.path.startswith(f"/v1/kv/{kv_prefix}"):
            answers.append(response.request.url.params.get("index", ""))

    consul_watch._http.event_hooks["response"].append(count)
    await asyncio.sleep(1.5)  # a watch polling every second (the old one) answers here at least once
    assert answers == []
    await asyncio.to_thread(kv.kv.put, mirrored_key(kv_prefix), "{}")
    await until(lambda: len(answers) >= 1, message="the change answered the waiting query")
    assert answers[0] != ""  # it was a blocking query (with an index), not a plain read
