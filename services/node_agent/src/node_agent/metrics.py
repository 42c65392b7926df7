"""The node agent's metrics: events through the agent, publish confirms, websockets, the node's load.

Names and labels: ``node`` is the agent's node id, ``app`` an app name (a handful per cluster).
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric

from ariscale_common.ari import AriClient
from ariscale_common.health import Health, LinkState
from ariscale_common.metrics import add_sampler, gauge, node_gauge

if TYPE_CHECKING:  # the publisher imports this module for its histogram
    from node_agent.publisher import EventStats, Publisher

PUBLISH_CONFIRM_SECONDS = Histogram(
    "ariscale_agent_publish_confirm_seconds",
    "Time from publishing an event to RabbitMQ until the broker confirmed it.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)

CALLS_STARTED = Counter(
    "ariscale_agent_calls_started_total",
    "Calls that entered an app on the node (StasisStart).",
    ["node", "app"],
)

_EVENT_COUNTS = (
    ("received", "ARI events received on the node's websockets."),
    ("published", "Events published to RabbitMQ and confirmed by the broker."),
    ("dropped", "Events lost because the buffer was full while RabbitMQ was unreachable."),
)


def event_metrics(node_id: str, stats: "EventStats") -> list[Metric]:
    """Counters of the agent's event pipeline, and what waits in its buffer now."""
    families: list[Metric] = []
    for what, doc in _EVENT_COUNTS:
        counter = CounterMetricFamily(f"ariscale_agent_events_{what}", doc, labels=["node"])
        counter.add_metric([node_id], getattr(stats, what))
        families.append(counter)
    messages = CounterMetricFamily(
        "ariscale_agent_bus_messages",
        "AMQP messages the published events went in (events that come together share one).",
        labels=["node"],
    )
    messages.add_metric([node_id], stats.messages)
    families.append(messages)
    families.append(
        node_gauge(
            "ariscale_agent_events_buffered",
            "Events waiting in the agent's buffer for RabbitMQ.",
            {node_id: stats.buffered},
        )
    )
    return families


def websocket_metrics(node_id: str, health: Health) -> Metric:
    """``ariscale_agent_ari_websocket_up{node,app}``: 1 while the app's ARI websocket is connected."""
    values: dict[tuple[str, ...], float] = {
        (node_id, link.removeprefix("ari:")): 1.0 if status.state is LinkState.UP else 0.0
        for link, status in health.report().links.items()
        if link.startswith("ari:")
    }
    return gauge(
        "ariscale_agent_ari_websocket_up",
        "1 while the node's ARI websocket for the app is connected, else 0.",
        values,
        ["node", "app"],
    )


async def node_load_metrics(node_id: str, ari: AriClient) -> Iterable[Metric]:
    """Channels and bridges on the node now, as Asterisk lists them (link legs included)."""
    channels = await ari.get("/channels")
    bridges = await ari.get("/bridges")
    return [
        node_gauge("ariscale_node_channels", "Channels on the node.", {node_id: len(channels)}),
        node_gauge("ariscale_node_bridges", "Bridges on the node.", {node_id: len(bridges)}),
    ]


def install(app: FastAPI, node_id: str, publisher: "Publisher", health: Health, ari: AriClient) -> None:
    """Sample the agent's pipeline and the node's load at every scrape (the load needs ARI)."""

    async def pipeline() -> list[Metric]:
        return [*event_metrics(node_id, publisher.stats()), websocket_metrics(node_id, health)]

    add_sampler(app, pipeline)
    add_sampler(app, lambda: node_load_metrics(node_id, ari))
