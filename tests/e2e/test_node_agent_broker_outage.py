"""Broker outage: the agent buffers every event while its RabbitMQ is down and, once it is back,
delivers all of them, in order. Uses a RabbitMQ of its own (the machine's broker is never
stopped) and, for node n1, an agent of its own pointing at it in place of the cluster's."""

import dataclasses
from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

import httpx
import pytest

from ariscale_cluster import Cluster, services
from ariscale_common.bus import app_node_binding
from tests.support.answering import answering_over_rest
from tests.support.backing_servers import OwnBroker
from tests.support.cluster_apps import FreshApp
from tests.support.node_agent import agent_health, link_state
from tests.support.sipp import place_calls
from tests.support.stasis_bus import BusEvent, BusTap
from tests.support.waiting import until

NODE = "n1"


@pytest.fixture
async def own_broker(cluster: Cluster) -> AsyncIterator[OwnBroker]:
    spec = cluster.spec
    broker = OwnBroker(cluster.procs, spec.state_dir / "rabbitmq-outage", spec.port_base + 100)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


@pytest.fixture
def own_agent(cluster: Cluster, own_broker: OwnBroker) -> Iterator[str]:
    """Node n1's agent, publishing to ``own_broker``, instead of the cluster's (two agents on one
    node would take each other's websockets). The cluster's agent is back afterwards."""
    node = next(n for n in cluster.spec.nodes if n.node_id == NODE)
    usual = services.node_agent(cluster.spec, node)
    ours = dataclasses.replace(
        usual,
        component=f"agent-{NODE}-outage",
        port=cluster.spec.port_base + 102,
        env={**usual.env, "ARISCALE_AMQP__URL": own_broker.url},
    )
    cluster.procs.stop(usual.component)
    cluster.procs.start(ours.component, services.uvicorn_argv(ours), ours.env)
    try:
        yield ours.url
    finally:
        cluster.procs.stop(ours.component)
        cluster.up()


def in_order_without_redeliveries(events: list[BusEvent]) -> list[BusEvent]:
    """The events once each; AssertionError if one arrives after a later one of the same run."""
    kept: list[BusEvent] = []
    for event in events:
        seq = event.headers["seq"]
        if kept and seq == kept[-1].headers["seq"]:
            continue  # at-least-once: the head may be re-published after a broker failure
        assert not kept or seq > kept[-1].headers["seq"], f"seq {seq} after {kept[-1].headers['seq']}"
        kept.append(event)
    return kept


async def link_is(agent_url: str, link: str, state: str) -> bool:
    try:
        return await link_state(agent_url, link) == state
    except httpx.HTTPError:  # the agent is still starting
        return False


async def events_stats(agent_url: str) -> dict[str, Any]:
    stats: dict[str, Any] = (await agent_health(agent_url))["events"]
    return stats


async def flushed(agent_url: str) -> bool:
    stats = await events_stats(agent_url)
    return bool(stats["buffered"] == 0 and stats["published"] >= stats["received"])


async def test_events_published_during_a_broker_outage_all_arrive_in_order(
    cluster: Cluster, own_broker: OwnBroker, own_agent: str, fresh_app: FreshApp
) -> None:
    app_name, extension, node_aris, ari_auth = (
        fresh_app.name,
        fresh_app.extension,
        fresh_app.node_aris,
        fresh_app.ari_auth,
    )
    node = next(n for n in cluster.spec.nodes if n.node_id == NODE)
    await until(partial(link_is, own_agent, "amqp", "up"), message="own agent publishing")
    await fresh_app.put_and_wait_served(NODE)

    tap = BusTap(own_broker.url, [app_node_binding(app_name, NODE)], queue=f"outage-{app_name}", durable=True)
    with tap.running():
        async with answering_over_rest(node_aris[NODE], ari_auth):
            before = await place_calls(node.sip_address, extension, calls=2, hold_ms=100)
            await until(lambda: len(tap.events("StasisEnd")) == 2, message="events before the outage")
            await until(partial(flushed, own_agent), message="everything published before the outage")
            seen_before = len(tap.events())

            await own_broker.stop()
            during = await place_calls(node.sip_address, extension, calls=3, rate=10, hold_ms=100)
            stats = await events_stats(own_agent)
            assert stats["buffered"] > 0, stats
            await until(partial(link_is, own_agent, "amqp", "down"), message="amqp reported down")

            await own_broker.start()
            await until(partial(flushed, own_agent), timeout=30, message="buffer flushed")
            received = (await events_stats(own_agent))["received"]
            await until(
                lambda: len(in_order_without_redeliveries(tap.events())) >= received,
                timeout=15, message=f"all {received} events consumed",
            )  # fmt: skip

    assert before.successful == 2, before.output[-2000:]
    assert during.successful == 3, during.output[-2000:]
    events = in_order_without_redeliveries(tap.events())
    final = await events_stats(own_agent)
    assert final["dropped"] == 0
    # Every event the agent received, each once, in the order it received them.
    assert [e.headers["seq"] for e in events] == list(range(1, received + 1))
    assert len({e.headers["agent_run"] for e in events}) == 1
    outage = events[seen_before:]
    assert [e.type for e in outage].count("StasisStart") == 3
    assert [e.type for e in outage].count("StasisEnd") == 3
    for channel in {e.event["channel"]["id"] for e in events if e.type == "StasisStart"}:
        kinds = [e.type for e in events if e.event.get("channel", {}).get("id") == channel]
        assert kinds[0] == "StasisStart" and "StasisEnd" in kinds, kinds
