"""The gateway's metrics: ARI requests, event delivery, websockets, ownership, link legs, the bus.

Labels stay few: ``operation`` is an ARI operation id (about 110), ``status`` an HTTP status,
``app`` an app name, ``cause`` an error id, ``result`` one of three words. Never a channel id.
Counters and histograms are updated where things happen (hooks of one line elsewhere); link legs,
cross-node bridges and websockets are sampled at scrape time.
"""

import json
import re
import time
from collections import Counter as Tally
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ariscale_common.metrics import add_sampler, gauge

if TYPE_CHECKING:  # both report here: imported for their types only
    from gateway.bridging.legs import Linker
    from gateway.events.instances import Instances

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram(
    "ariscale_gateway_request_duration_seconds",
    "ARI requests through the gateway, by operation and HTTP status.",
    ["operation", "status"],
    buckets=_LATENCY_BUCKETS,
)
UNAVAILABLE = Counter(
    "ariscale_gateway_unavailable_total", "Answers 503, by cause (the error id of the body).", ["cause"]
)
EVENTS_DELIVERED = Counter(
    "ariscale_gateway_events_delivered_total", "Events written to an app's websocket.", ["app"]
)
EVENT_DELAY_SECONDS = Histogram(
    "ariscale_gateway_event_delay_seconds",
    "From the event's Asterisk timestamp until it was written to the app's websocket.",
    ["app"],
    buckets=_LATENCY_BUCKETS,
)
BUS_LAG_SECONDS = Histogram(
    "ariscale_gateway_bus_lag_seconds",
    "From the event's Asterisk timestamp until the gateway took it from RabbitMQ, by queue kind.",
    ["queue"],
    buckets=_LATENCY_BUCKETS,
)
OWNERSHIP_LOOKUPS = Counter(
    "ariscale_gateway_ownership_lookups_total",
    "Owner lookups: hit (Redis knew), rebuilt (asked the nodes), miss (nobody has it).",
    ["result"],
)

# Asterisk's event time, e.g. "timestamp":"2026-11-29T08:00:00.123+0000"
_TIMESTAMP = re.compile(r'"timestamp"\s*:\s*"([^"]+)"')
_TIMESTAMP_BYTES = re.compile(_TIMESTAMP.pattern.encode())


def event_age(event: str | bytes) -> float | None:
    """Seconds since the event's Asterisk timestamp; None when it has none."""
    match = _TIMESTAMP.search(event) if isinstance(event, str) else _TIMESTAMP_BYTES.search(event)
    if match is None:
        return None
    stamp = match[1]
    try:
        # fromisoformat, not strptime: a hundred times cheaper, and this runs for every event.
        parsed = datetime.fromisoformat(stamp if isinstance(stamp, str) else stamp.decode())
    except (ValueError, UnicodeDecodeError):
        return None
    if parsed.tzinfo is None:
        return None
    return max(0.0, time.time() - parsed.timestamp())


def event_delivered(app: str, text: str) -> None:
    """An event went out on one of ``app``'s websockets."""
    EVENTS_DELIVERED.labels(app).inc()
    age = event_age(text)
    if age is not None:
        EVENT_DELAY_SECONDS.labels(app).observe(age)


def taken_from_bus(queue: str, body: bytes) -> None:
    """The bus worker took an event from ``queue`` (``ownership``, ``app`` or ``forwarded``)."""
    age = event_age(body)
    if age is not None:
        BUS_LAG_SECONDS.labels(queue).observe(age)


def ownership_lookup(result: str) -> None:
    OWNERSHIP_LOOKUPS.labels(result).inc()


class RequestMetrics:
    """ASGI middleware: time every ``/ari`` request by operation and status; count 503s by cause."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/ari/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        body = b""

        async def watch(message: Message) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 503 and len(body) < 4096:
                body += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = scope.get("route")
            operation = getattr(route, "name", None) or "unmatched"
            REQUEST_SECONDS.labels(operation, str(status)).observe(time.perf_counter() - started)
            if status == 503:
                UNAVAILABLE.labels(_cause(body)).inc()


def _cause(body: bytes) -> str:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return "unknown"
    return str(error) if error else "unknown"


def link_metrics(links: list[tuple[str, str]]) -> list[Metric]:
    """Link legs open (by remote node) and bridges spanning nodes, from (bridge, remote node) pairs."""
    by_node = Tally(remote for _, remote in links)
    return [
        gauge(
            "ariscale_gateway_link_legs",
            "Link legs open, by the remote node they carry members of.",
            {(node,): n for node, n in by_node.items()},
            ["node"],
        ),
        gauge(
            "ariscale_gateway_bridges_spanning_nodes",
            "Bridges with members on more than one node (at least one link leg).",
            {(): len({bridge for bridge, _ in links})},
            [],
        ),
    ]


def install(app: FastAPI, linker: "Linker", instances: "Instances") -> None:
    """Time ARI requests, and sample link legs (Redis) and websockets (this gateway) at scrape time."""

    async def legs() -> list[Metric]:
        return link_metrics([(link.bridge_id, link.remote) for link in await linker.open_links()])

    async def websockets() -> list[Metric]:
        return [
            gauge(
                "ariscale_gateway_websockets",
                "Event websockets of each app connected to this gateway.",
                {(a,): n for a, n in instances.local_counts().items()},
                ["app"],
            )
        ]

    add_sampler(app, legs)
    add_sampler(app, websockets)
