"""``make bench``: ariscale's performance, as ratios against a baseline measured in the same run.

Starts its own cluster (port base 30000, or ARISCALE_BENCH_PORT_BASE), registers an app, and
measures:

* ARI request latency through the gateway vs straight to the node that owns the resource;
* bridge joins: ``addChannel`` → ``ChannelEnteredBridge`` at the app, for a member on the
  bridge's node (the baseline), on another node with a new link leg, and on another node whose
  leg already exists;
* the event path: event delay through the cluster vs a websocket straight on the node, and a
  burst of events checked for completeness and order (:mod:`bench.event_path`);
* one app's event delay beside another app whose websocket reads nothing, vs alone
  (:mod:`bench.stuck_consumer`).
"""

import asyncio
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import websockets

from ariscale_cluster import Cluster, ClusterSpec, backing
from ariscale_cluster.extra_gateway import start_extra_gateway, stop_extra_gateway
from bench.event_path import EventSource, bench_event_path
from bench.stuck_consumer import TARGET_ID, AppAuth, stuck_beside

BLACK_HOLE = "PJSIP/cluster/sip:nobody@127.0.0.1:9"
REQUESTS = 200
JOINS = 50


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "median_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[max(0, int(0.95 * len(ordered)) - 1)],
    }


async def timed(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


class EventWaiter:
    """The app's websocket at the gateway; resolves waits for ChannelEnteredBridge by channel."""

    def __init__(self) -> None:
        self.waiters: dict[str, asyncio.Future[float]] = {}

    def expect(self, channel_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[channel_id] = future
        return future

    async def listen(self, url: str, auth: tuple[str, str]) -> None:
        headers = {"Authorization": httpx.BasicAuth(*auth)._auth_header}
        async with websockets.connect(url, additional_headers=headers) as ws:
            async for raw in ws:
                event = json.loads(raw)
                if event.get("type") == "ChannelEnteredBridge":
                    future = self.waiters.pop(event["channel"]["id"], None)
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())


SECTIONS = ("requests", "joins", "events", "stuck")


async def bench(cluster: Cluster, sections: set[str]) -> dict[str, Any]:
    """The measures of ``sections`` (names from :data:`SECTIONS`)."""
    spec = cluster.spec
    gateway = f"http://127.0.0.1:{spec.gateway_port}"
    async with registry_client(spec) as registry:
        created = (await registry.post("/apps", json={"name": "bench", "extensions": []})).json()
    auth = ("bench", created["credentials"]["password"])
    waiter = EventWaiter()
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=f"{gateway}/ari", auth=auth, timeout=30) as gw:
        for _ in range(50):  # the gateway learns new apps from Consul within about a second
            if (await gw.get("/channels")).status_code == 200:
                break
            await asyncio.sleep(0.2)
        listener = asyncio.create_task(
            waiter.listen(f"{gateway.replace('http', 'ws')}/ari/events?app=bench", auth)
        )
        await asyncio.sleep(1)
        if "requests" in sections:
            results["requests"] = await bench_requests(cluster, gw)
        if "joins" in sections:
            results["joins"] = await bench_joins(cluster, gw, waiter)
        listener.cancel()
    if "events" in sections:
        results["event path"] = await bench_events(cluster, auth)
    if "stuck" in sections:
        results["stuck consumer"] = await bench_stuck(cluster)
    return results


def registry_client(spec: ClusterSpec) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{spec.registry_port}",
        headers={"Authorization": f"Bearer {spec.admin_token}"},
    )


async def bench_stuck(cluster: Cluster) -> dict[str, Any]:
    """App A's event delay beside app B's stuck websocket, on a second gateway (the target)."""
    spec = cluster.spec
    env = {"ARISCALE_GATEWAY_ID": TARGET_ID}
    target = start_extra_gateway(cluster, spec.port_base + 93, env, "gateway-target")
    try:
        async with registry_client(spec) as registry:
            a, b = [await register(registry, name) for name in ("benchpeer", "benchstuck")]

            async def consumers(app: str) -> int:
                return int((await registry.get(f"/apps/{app}")).json().get("consumers") or 0)

            node_auth = (spec.ari_user, spec.ari_password)
            async with httpx.AsyncClient(base_url=spec.nodes[0].ari_url, auth=node_auth, timeout=30) as node:
                dispatcher = f"http://127.0.0.1:{spec.gateway_port}"
                return await stuck_beside(node, dispatcher, target, a, b, consumers)
    finally:
        stop_extra_gateway(cluster, "gateway-target")


async def register(registry: httpx.AsyncClient, name: str) -> AppAuth:
    created = await registry.post("/apps", json={"name": name, "extensions": []})
    created.raise_for_status()
    return AppAuth(name, created.json()["credentials"]["password"])


async def bench_events(cluster: Cluster, auth: tuple[str, str]) -> dict[str, Any]:
    spec = cluster.spec
    node = spec.nodes[0]
    ws_node = node.ari_url.replace("http", "ws", 1)
    ws_gateway = f"ws://127.0.0.1:{spec.gateway_port}/ari"
    direct = EventSource(
        "direct", node.ari_url, "benchdirect",
        f"{ws_node}/events?app=benchdirect&api_key={spec.ari_user}:{spec.ari_password}",
    )  # fmt: skip
    through = EventSource(
        "cluster", node.ari_url, "bench", f"{ws_gateway}/events?app=bench&api_key={auth[0]}:{auth[1]}"
    )
    return await bench_event_path(direct, through, (spec.ari_user, spec.ari_password))


async def bench_requests(cluster: Cluster, gw: httpx.AsyncClient) -> dict[str, Any]:
    channel = (await gw.post("/channels/create", params={"endpoint": BLACK_HOLE, "app": "bench"})).json()
    node = next(n for n in cluster.spec.nodes if channel["id"].startswith(f"{n.node_id}-"))
    auth = (cluster.spec.ari_user, cluster.spec.ari_password)
    async with httpx.AsyncClient(base_url=node.ari_url, auth=auth) as direct:
        path = f"/channels/{channel['id']}"
        await timed(lambda: direct.get(path), 20)  # warm both paths up
        await timed(lambda: gw.get(path), 20)
        baseline = summary(await timed(lambda: direct.get(path), REQUESTS))
        through = summary(await timed(lambda: gw.get(path), REQUESTS))
    await gw.delete(f"/channels/{channel['id']}")
    return {
        "GET /channels/{id} direct to the node": baseline,
        "GET /channels/{id} through the gateway": through,
        "ratio (median, gateway / direct)": through["median_ms"] / baseline["median_ms"],
    }


async def bench_joins(cluster: Cluster, gw: httpx.AsyncClient, waiter: EventWaiter) -> dict[str, Any]:
    local, remote_new, remote_reuse = [], [], []
    for _ in range(JOINS):
        bridge_id = f"bench-{uuid.uuid4().hex[:8]}"
        bridge = await gw.post(f"/bridges/{bridge_id}", params={"type": "mixing"})
        assert bridge.status_code == 200, bridge.text
        channels = [
            (await gw.post("/channels/create", params={"endpoint": BLACK_HOLE, "app": "bench"})).json()["id"]
            for _ in range(4)
        ]
        home = await home_node(cluster, bridge_id)
        here = [c for c in channels if c.startswith(f"{home}-")]
        there = [c for c in channels if not c.startswith(f"{home}-")]
        if here:
            local.append(await join(gw, waiter, bridge_id, here[0]))
        if len(there) >= 2:
            remote_new.append(await join(gw, waiter, bridge_id, there[0]))
            remote_reuse.append(await join(gw, waiter, bridge_id, there[1]))
        await gw.delete(f"/bridges/{bridge_id}")
        for channel_id in channels:
            await gw.delete(f"/channels/{channel_id}")
    base = summary(local)
    new, reuse = summary(remote_new), summary(remote_reuse)
    return {
        "member on the bridge's node (baseline)": base,
        "member on another node, new link leg": new,
        "member on another node, leg reused": reuse,
        "ratio (median, new leg / local)": new["median_ms"] / base["median_ms"],
        "ratio (median, reused leg / local)": reuse["median_ms"] / base["median_ms"],
    }


async def home_node(cluster: Cluster, bridge_id: str) -> str:
    """The node the gateway placed the bridge on (apps never need to know; the benchmark does)."""
    auth = (cluster.spec.ari_user, cluster.spec.ari_password)
    async with httpx.AsyncClient(auth=auth) as client:
        for node in cluster.spec.nodes:
            if (await client.get(f"{node.ari_url}/bridges/{bridge_id}")).status_code == 200:
                return node.node_id
    raise RuntimeError(f"bridge {bridge_id} is on no node")


async def join(gw: httpx.AsyncClient, waiter: EventWaiter, bridge_id: str, channel_id: str) -> float:
    entered = waiter.expect(channel_id)
    started = time.perf_counter()
    response = await gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": channel_id})
    assert response.status_code == 204, response.text
    return await asyncio.wait_for(entered, 20) - started


def main() -> None:
    """``python -m bench [section ...]``: every section of :data:`SECTIONS` unless some are named."""
    sections = set(sys.argv[1:]) or set(SECTIONS)
    if unknown := sections - set(SECTIONS):
        raise SystemExit(f"unknown sections {sorted(unknown)}: choose from {', '.join(SECTIONS)}")
    state_dir = Path(tempfile.mkdtemp(prefix="ariscale-bench-"))
    port_base = int(os.environ.get("ARISCALE_BENCH_PORT_BASE", "30000"))
    spec = ClusterSpec(
        state_dir=state_dir, port_base=port_base, redis_url="redis://127.0.0.1:6379/3",
        redis_key_prefix=f"ariscale-bench-{uuid.uuid4().hex[:6]}:", amqp_vhost=f"ariscale-bench-{port_base}",
        admin_token=secrets.token_urlsafe(16),
    )  # fmt: skip
    cluster = Cluster(spec)
    try:
        cluster.up()
        results = asyncio.run(bench(cluster, sections))
    finally:
        cluster.down()
        backing.delete_vhost(spec)
        shutil.rmtree(spec.rootfs / spec.chroot_cluster_dir.lstrip("/"), ignore_errors=True)
        shutil.rmtree(state_dir, ignore_errors=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
