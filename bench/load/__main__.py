"""``make load``: real SIP calls into an app, through the cluster and straight on one node.

Starts its own cluster (port base 28000, or ``--port-base``), registers the app ``loadapp``
(extension 7100) with the registry and runs :class:`~bench.load.app.LoadApp` against the gateway;
the same code runs as ``loaddirect`` (extension 7200) against node n1's own ARI, called on n1's
own SIP port: one Asterisk without the cluster, the baseline. Each rate is run on both, one after
the other, and the JSON names the highest rate each held (0 failed calls; the cluster's
INVITE→200 p95 within 2x the baseline's at that rate).
"""

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ariscale_cluster import Cluster
from bench.load import cpu
from bench.load.app import ANSWER, VARIANTS, LoadApp, Target, running
from bench.load.sipp_run import Batch, place
from bench.own_cluster import cluster_of_its_own
from bench.stats import latency_ms

CLUSTER_APP, CLUSTER_EXTEN = "loadapp", "7100"
DIRECT_APP, DIRECT_EXTEN = "loaddirect", "7200"
P95_LIMIT = 2.0  # the cluster's INVITE→200 p95 may be at most this x the baseline's
CONTROL_PLANE = ("gateway", "agents", "rabbitmq", "redis")


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--rate", type=float, default=10, help="calls per second (the first step)")
    parser.add_argument(
        "--step", type=float, default=0, help="raise the rate by this each step (0: one rate)"
    )
    parser.add_argument("--max-rate", type=float, default=80, help="the last step's rate at most")
    parser.add_argument("--duration", type=float, default=60, help="seconds of calls per step")
    parser.add_argument("--calls", type=int, default=0, help="calls per step (default: rate x duration)")
    parser.add_argument("--hold", type=float, default=2, help="seconds each call lasts")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--gateways", type=int, default=1, help="gateway processes on the one port")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="answer, conference (comma-separated)")
    parser.add_argument("--port-base", type=int, default=28000)
    parser.add_argument("--keep-state", action="store_true", help="leave the cluster's logs behind")
    return parser.parse_args(argv)


def process_groups(cluster: Cluster, broker: str) -> dict[str, list[int]]:
    """The processes whose CPU is counted, by role (the broker and Redis are the cluster's own)."""
    procs, spec = cluster.procs, cluster.spec

    def pids(*components: str) -> list[int]:
        return [pid for c in components if (pid := procs.pid(c)) is not None]

    groups = {
        "gateway": pids("gateway"),
        "agents": pids(*(f"agent-{n.node_id}" for n in spec.nodes)),
        "rabbitmq": pids(broker),
        "redis": pids("redis"),
        "asterisk": pids(*(f"asterisk-{n.node_id}" for n in spec.nodes)),
        "kamailio": pids("kamailio"),
        # Not on a call's path (outside the control plane's sum), but the cluster's all the same.
        "registry": pids("registry"),
        "consul": pids("consul"),
    }
    for node in spec.nodes:
        groups[f"asterisk-{node.node_id}"] = pids(f"asterisk-{node.node_id}")
        groups[f"agent-{node.node_id}"] = pids(f"agent-{node.node_id}")
    table = cpu.processes()
    for pid in groups["gateway"]:  # uvicorn --workers: one entry per worker process
        for child, (parent, _) in sorted(table.items()):
            if parent == pid and Path(f"/proc/{child}/cmdline").read_bytes().find(b"spawn_main") >= 0:
                groups[f"gateway-worker-{child}"] = [child]
    return groups


def cpu_figures(per_call: dict[str, float]) -> dict[str, Any]:
    control = round(sum(per_call.get(k, 0.0) for k in CONTROL_PLANE), 2)
    asterisk = per_call.get("asterisk", 0.0)
    return {
        "cpu_ms_per_call": per_call,
        "control_plane_ms_per_call": control,
        "control_plane_vs_asterisk": round(control / asterisk, 2) if asterisk else None,
    }


def bus_figures(before: tuple[int, int], after: tuple[int, int], calls: int) -> dict[str, Any]:
    """Events the agents published per call, and the AMQP messages they went in."""
    events, messages = after[0] - before[0], after[1] - before[1]
    return {
        "bus_events_per_call": round(events / calls, 2) if calls else None,
        "bus_events_per_message": round(events / messages, 2) if messages else None,
    }


async def wait_idle(client: httpx.AsyncClient, urls: list[str], deadline_s: float = 30) -> None:
    """Until no node has a channel left from the previous run (bounded)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        counts = [len((await client.get(f"{url}/channels")).json()) for url in urls]
        if not any(counts):
            return
        await asyncio.sleep(0.5)


class LoadRun:
    """The cluster, both apps, and one method per measured batch."""

    def __init__(self, cluster: Cluster, opts: argparse.Namespace, broker: str) -> None:
        self.cluster = cluster
        self.opts = opts
        spec = cluster.spec
        self.node_auth = (spec.ari_user, spec.ari_password)
        self.n1 = spec.nodes[0]
        self.groups = process_groups(cluster, broker)

    async def register(self) -> tuple[str, str]:
        spec = self.cluster.spec
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{spec.registry_port}",
            headers={"Authorization": f"Bearer {spec.admin_token}"},
        ) as registry:
            body = {"name": CLUSTER_APP, "extensions": [CLUSTER_EXTEN]}
            created = (await registry.post("/apps", json=body)).raise_for_status().json()
        return CLUSTER_APP, str(created["credentials"]["password"])

    async def routed(self, extension: str, app: str, urls: list[str]) -> None:
        """Until every node in ``urls`` sends ``extension`` to ``app`` (the agents set it)."""
        async with httpx.AsyncClient(auth=self.node_auth) as client:
            for _ in range(150):
                values = [
                    (await client.get(f"{url}/asterisk/variable", params={"variable": f"APP_{extension}"}))
                    .json()
                    .get("value")
                    for url in urls
                ]
                if all(v == app for v in values):
                    return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"extension {extension} not routed to {app} on every node")

    async def main(self) -> dict[str, Any]:
        spec, opts = self.cluster.spec, self.opts
        auth = await self.register()
        gateway = Target("cluster", f"http://127.0.0.1:{spec.gateway_port}/ari", CLUSTER_APP, auth)
        direct = Target("direct", self.n1.ari_url, DIRECT_APP, self.node_auth)
        node_urls = [n.ari_url for n in spec.nodes]
        async with httpx.AsyncClient(auth=self.node_auth) as nodes:
            await nodes.post(
                f"{self.n1.ari_url}/asterisk/variable",
                params={"variable": f"APP_{DIRECT_EXTEN}", "value": DIRECT_APP},
            )
            async with running(LoadApp(gateway)) as through, running(LoadApp(direct)) as straight:
                await self.routed(CLUSTER_EXTEN, CLUSTER_APP, node_urls)
                variants = [v for v in opts.variants.split(",") if v]
                steps = await self.stepped(through, straight, nodes, node_urls)
                others = [
                    await self.compare(v, opts.rate, through, straight, nodes, node_urls)
                    for v in variants
                    if v != ANSWER
                ]
        return {
            "setup": {
                "nodes": spec.node_count, "gateways": spec.gateways, "hold_s": opts.hold,
                "duration_s": opts.duration, "calls_per_step": opts.calls or "rate x duration",
                "baseline": f"the same app on node {self.n1.node_id} alone ({DIRECT_APP}, SIP to the node)",
                "note": "rabbitmq and redis are the cluster's own servers (their CPU is the cluster's alone)",
            },
            "steps": steps,
            "highest_rate_held": {
                "direct": max((s["rate"] for s in steps if s["direct"]["held"]), default=0),
                "cluster": max((s["rate"] for s in steps if s["cluster"]["held"]), default=0),
            },
            "variants": others,
        }  # fmt: skip

    async def stepped(
        self, through: LoadApp, straight: LoadApp, nodes: httpx.AsyncClient, node_urls: list[str]
    ) -> list[dict[str, Any]]:
        """Raise the rate until neither side holds it (or the maximum is reached)."""
        opts, steps = self.opts, []
        rate = opts.rate
        while rate <= opts.max_rate:
            step = await self.compare(ANSWER, rate, through, straight, nodes, node_urls)
            steps.append(step)
            print(json.dumps(step), file=sys.stderr, flush=True)
            if opts.step <= 0 or not (step["direct"]["held"] or step["cluster"]["held"]):
                break
            rate += opts.step
        return steps

    async def compare(
        self, variant: str, rate: float, through: LoadApp, straight: LoadApp,
        nodes: httpx.AsyncClient, node_urls: list[str],
    ) -> dict[str, Any]:  # fmt: skip
        """One rate, baseline first then the cluster; the cluster holds it only within the p95 limit."""
        calls = self.opts.calls or int(rate * self.opts.duration)
        await wait_idle(nodes, node_urls)
        base = await self.batch(
            straight, variant, Batch(self.n1.sip_address, DIRECT_EXTEN, rate, calls, self.opts.hold)
        )
        await wait_idle(nodes, node_urls)
        edge = f"127.0.0.1:{self.cluster.spec.sip_edge_port}"
        ours = await self.batch(through, variant, Batch(edge, CLUSTER_EXTEN, rate, calls, self.opts.hold))
        base["held"] = base["failed"] == 0 and base["ok"] == calls
        limit = P95_LIMIT * max(base["invite_to_200_ms"]["p95"], 1.0)  # sipp's trace counts whole ms
        ours["held"] = (
            ours["failed"] == 0 and ours["ok"] == calls and ours["invite_to_200_ms"]["p95"] <= limit
        )
        return {"variant": variant, "rate": rate, "calls": calls, "direct": base, "cluster": ours}

    async def batch(self, app: LoadApp, variant: str, batch: Batch) -> dict[str, Any]:
        app.reset(variant)
        before, bus_before = cpu.snapshot(self.groups), await self.published()
        result = await place(batch)
        await asyncio.sleep(1)  # the last StasisEnd reaches the app
        after, bus_after = cpu.snapshot(self.groups), await self.published()
        stats = app.stats
        return {
            "ok": result.ok,
            "failed": result.failed,
            "invite_to_200_ms": latency_ms(result.invite_to_200_ms),
            "answer_ms": latency_ms(stats.answer_ms),
            "event_delay_ms": latency_ms(stats.event_delay_ms),
            "app": {"stasis_start": stats.started, "stasis_end": stats.ended, "errors": len(stats.errors),
                    "first_errors": stats.errors[:3]},
            **cpu_figures(cpu.per_call_ms(before, after, batch.calls)),
            **bus_figures(bus_before, bus_after, batch.calls),
        }  # fmt: skip

    async def published(self) -> tuple[int, int]:
        """Events the agents have published, and in how many messages (their ``/health``)."""
        async with httpx.AsyncClient() as client:
            counts = [
                (await client.get(f"http://127.0.0.1:{node.agent_port}/health")).json()["events"]
                for node in self.cluster.spec.nodes
            ]
        return sum(c["published"] for c in counts), sum(c["messages"] for c in counts)


def main(argv: list[str] | None = None) -> None:
    opts = options(argv)
    # Unsupervised: a process that dies is a failed run here, not something to hide.
    with cluster_of_its_own(opts, "ariscale-load", supervised=False) as (cluster, broker):
        results = asyncio.run(LoadRun(cluster, opts, broker.component).main())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
