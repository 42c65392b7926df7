"""``make bench``'s event path: Asterisk event timestamp → arrival at the app, through the cluster
(node agent → RabbitMQ → gateway → the app's websocket) vs a websocket straight on the node.

Events are ARI user events (``POST /events/user/{name}?application=…`` on the node), each with a
sequence number: a paced series measures the delay, a burst checks that every event arrives once
and in order.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import websockets

from bench.stats import percentile

PACED = 500
PACE_S = 0.004
BURST = 5000
EVENT_NAME = "ariscale-bench"


@dataclass
class Arrivals:
    """Sequence numbers and delays (ms) of the bench's user events as one websocket got them."""

    sequence: list[int] = field(default_factory=list)
    delay_ms: list[float] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def clear(self) -> None:
        self.sequence.clear()
        self.delay_ms.clear()

    def add(self, event: dict[str, Any], arrived: float) -> None:
        if event.get("type") != "ChannelUserevent" or event.get("eventname") != EVENT_NAME:
            return
        born = datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        self.sequence.append(int(event["userevent"]["seq"]))
        self.delay_ms.append(1000 * (arrived - born))
        self.changed.set()

    async def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.sequence) < count and time.monotonic() < deadline:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break


async def listen(url: str, arrivals: Arrivals, ready: asyncio.Event) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        ready.set()
        async for raw in ws:
            arrivals.add(json.loads(raw), time.time())


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 0.5), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
    }


def in_order(sequence: list[int], sent: int) -> dict[str, Any]:
    return {
        "sent": sent,
        "received": len(sequence),
        "all_once_in_order": sequence == list(range(sent)),
    }


@dataclass(frozen=True)
class EventSource:
    """Where events are raised (a node's ARI) and which app receives them on which websocket."""

    label: str
    node_ari: str
    app: str
    events_url: str


async def raise_events(node: httpx.AsyncClient, app: str, count: int, pace_s: float) -> None:
    for seq in range(count):
        response = await node.post(
            f"/events/user/{EVENT_NAME}", params={"application": app}, json={"variables": {"seq": str(seq)}}
        )
        response.raise_for_status()
        if pace_s:
            await asyncio.sleep(pace_s)


async def measure(source: EventSource, auth: tuple[str, str]) -> dict[str, Any]:
    arrivals, ready = Arrivals(), asyncio.Event()
    listener = asyncio.create_task(listen(source.events_url, arrivals, ready))
    try:
        await asyncio.wait_for(ready.wait(), 20)
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=source.node_ari, auth=auth, timeout=10) as node:
            await raise_events(node, source.app, PACED, PACE_S)
            await arrivals.wait_for(PACED, 30)
            paced = percentiles(arrivals.delay_ms)
            paced_order = in_order(arrivals.sequence, PACED)
            arrivals.clear()
            started = time.perf_counter()
            await raise_events(node, source.app, BURST, 0)
            await arrivals.wait_for(BURST, 60)
            took = time.perf_counter() - started
        return {
            "paced delay": {**paced, **paced_order},
            "burst": {**in_order(arrivals.sequence, BURST), **percentiles(arrivals.delay_ms),
                      "events_per_s": round(len(arrivals.sequence) / took)},
        }  # fmt: skip
    finally:
        listener.cancel()


async def bench_event_path(
    direct: EventSource, cluster: EventSource, node_auth: tuple[str, str]
) -> dict[str, Any]:
    straight = await measure(direct, node_auth)
    through = await measure(cluster, node_auth)
    p50 = through["paced delay"].get("p50_ms", 0) - straight["paced delay"].get("p50_ms", 0)
    p99 = through["paced delay"].get("p99_ms", 0) - straight["paced delay"].get("p99_ms", 0)
    return {
        "direct websocket on the node": straight,
        "through the cluster": through,
        "added delay (paced, cluster - direct)": {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2)},
    }
