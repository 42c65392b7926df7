"""A supervised cluster with a Redis and a RabbitMQ of its own (so both may be restarted), the load
app connected through the gateway, and steady SIP load whose every call is logged step by step."""

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ariscale_cluster import Cluster, kamailio
from ariscale_cluster.private_broker import PrivateBroker
from ariscale_cluster.sipp import uac_scenario
from bench.chaos import orphans
from bench.chaos.calls import CallRecord, parse_steps
from bench.chaos.sequence import CallEvents, SeqTally
from bench.load.app import ANSWER, LoadApp, Target, running
from bench.load.sipp_run import Batch, argv

APP, EXTEN = "chaosapp", "7300"


def add_load_options(parser: argparse.ArgumentParser, rate: float, hold: float, duration: float) -> None:
    parser.add_argument("--rate", type=float, default=rate, help="calls per second")
    parser.add_argument("--hold", type=float, default=hold, help="seconds each call lasts")
    parser.add_argument("--duration", type=float, default=duration, help="seconds of new calls per batch")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--gateways", type=int, default=2, help="gateway processes on the one port")
    parser.add_argument(
        "--variant", default=ANSWER, help="answer, or conference (every call joins one bridge)"
    )
    parser.add_argument("--port-base", type=int, default=61000)
    parser.add_argument("--keep-state", action="store_true", help="leave the cluster's logs behind")


def sipp_log_lines(workdir: Path) -> list[str]:
    return [line for path in workdir.glob("*_logs.log") for line in path.read_text().splitlines()]


@dataclass
class Observed:
    """What the app saw over the whole run."""

    seqs: SeqTally = field(default_factory=SeqTally)
    calls: CallEvents = field(default_factory=CallEvents)

    def observe(self, event: dict[str, Any]) -> None:
        seq = event.get("ariscale_seq")
        if isinstance(seq, int):
            self.seqs.observe(seq)
        self.calls.observe(event)

    def snapshot(self) -> dict[str, int]:
        return {**self.seqs.snapshot(), **self.calls.snapshot()}


class Harness:
    """The running cluster, its load app, and the views the reports need."""

    def __init__(self, cluster: Cluster, broker: PrivateBroker, opts: argparse.Namespace) -> None:
        self.cluster = cluster
        self.broker = broker
        self.opts = opts
        self.observed = Observed()
        spec = cluster.spec
        self.node_auth = (spec.ari_user, spec.ari_password)
        self.nodes = {n.node_id: n.ari_url for n in spec.nodes}
        self.node_ports = {n.sip_port: n.node_id for n in spec.nodes}
        self.app: LoadApp | None = None

    @contextlib.asynccontextmanager
    async def connected(self) -> AsyncIterator[LoadApp]:
        """The app registered, routed on every node and connected through the gateway."""
        spec = self.cluster.spec
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{spec.registry_port}",
            headers={"Authorization": f"Bearer {spec.admin_token}"},
        ) as registry:
            created = (
                await registry.post("/apps", json={"name": APP, "extensions": [EXTEN]})
            ).raise_for_status()
        auth = (APP, str(created.json()["credentials"]["password"]))
        target = Target("cluster", f"http://127.0.0.1:{spec.gateway_port}/ari", APP, auth)
        app = LoadApp(target, self.opts.variant, observers=(self.observed.observe,))
        async with running(app):
            await self.routed()
            self.app = app
            yield app

    async def routed(self) -> None:
        async with httpx.AsyncClient(auth=self.node_auth) as client:
            for _ in range(150):
                values = []
                for url in self.nodes.values():
                    answer = await client.get(f"{url}/asterisk/variable", params={"variable": f"APP_{EXTEN}"})
                    values.append(answer.json().get("value") if answer.status_code == 200 else None)
                if all(v == APP for v in values):
                    return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"extension {EXTEN} not routed to {APP} on every node")

    def batch(self, duration: float) -> Batch:
        edge = f"127.0.0.1:{self.cluster.spec.sip_edge_port}"
        rate = self.opts.rate
        return Batch(edge, EXTEN, rate, max(1, int(rate * duration)), self.opts.hold)

    async def place(self, batch: Batch) -> dict[str, CallRecord]:
        """Run sipp to the end; every call's steps."""
        scenario = uac_scenario(int(batch.hold * 1000), steps=True)
        with tempfile.TemporaryDirectory(prefix="ariscale-chaos-sipp-") as workdir:
            proc = await asyncio.create_subprocess_exec(
                *argv(batch, scenario), "-trace_logs", cwd=workdir,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await proc.wait()
            lines = await asyncio.to_thread(sipp_log_lines, Path(workdir))
        return parse_steps(lines, self.node_ports)

    async def edge_log(self) -> list[str]:
        """Kamailio's log so far (every INVITE's destination: see ``bench.chaos.edge``)."""
        path = self.cluster.procs.log_path("kamailio")
        text = await asyncio.to_thread(path.read_text, errors="replace")
        return text.splitlines()

    async def holdings(self) -> orphans.Holdings:
        spec = self.cluster.spec
        async with httpx.AsyncClient(auth=self.node_auth, timeout=10) as client:
            return await orphans.holdings(
                client, self.nodes, spec.redis_url, spec.redis_key_prefix, self.broker.env, "/"
            )

    async def idle(self, timeout: float = 90) -> float:
        """Until no node holds a channel (bounded); the seconds it took."""
        started = time.monotonic()
        async with httpx.AsyncClient(auth=self.node_auth, timeout=5) as client:
            while time.monotonic() - started < timeout:
                channels, _ = await orphans.node_resources(client, self.nodes)
                if not any(channels.values()):
                    break
                await asyncio.sleep(0.5)
        return round(time.monotonic() - started, 2)

    async def healthy(self) -> list[str]:
        """What is not fully healthy now: components, service links, nodes in the registry or the SIP edge."""
        spec = self.cluster.spec
        sick = [s.name for s in await asyncio.to_thread(self.cluster.status) if not s.healthy]
        urls = {"registry": spec.registry_port, "gateway": spec.gateway_port}
        urls.update({f"agent-{n.node_id}": n.agent_port for n in spec.nodes})
        async with httpx.AsyncClient(timeout=3) as client:
            for name, port in urls.items():
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/health")).json().get("status") != "ok":
                        sick.append(f"{name} links")
                except (httpx.HTTPError, ValueError):
                    sick.append(f"{name} links")
            try:
                nodes = (
                    await client.get(
                        f"http://127.0.0.1:{spec.registry_port}/nodes",
                        headers={"Authorization": f"Bearer {spec.admin_token}"},
                    )
                ).json()["data"]
                sick += [f"node {n['id']} {n['health']}" for n in nodes if n["health"] != "passing"]
                sick += [f"node {n} missing" for n in self.nodes if n not in {x["id"] for x in nodes}]
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                sick.append("registry nodes")
        edge = await asyncio.to_thread(kamailio.kamcmd, spec, "dispatcher.list")
        sick += [f"edge lacks {n.node_id}" for n in spec.nodes if f":{n.sip_port}" not in edge.stdout]
        return sick

    async def time_to_health(self, since: float, timeout: float = 180) -> tuple[float | None, list[str]]:
        """Seconds from ``since`` (monotonic) until everything is healthy; None and what is not if never."""
        sick: list[str] = []
        while time.monotonic() - since < timeout:
            sick = await self.healthy()
            if not sick:
                return round(time.monotonic() - since, 2), []
            await asyncio.sleep(0.25)
        return None, sick
