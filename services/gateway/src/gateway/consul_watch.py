"""The gateway's view of Consul: healthy nodes and registered apps, refreshed in the background.

py-consul is synchronous, so every call runs in a thread; readers get the last snapshot
without waiting. The loop backs off while Consul is unreachable and reports it in /health.
"""

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlparse

import consul

from ariscale_common import Health, LinkState
from ariscale_common.discovery import NODE_SERVICE, AppRecord, apps_prefix, drained_prefix

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Node:
    node_id: str
    ari_url: str
    sip_address: str
    healthy: bool
    drained: bool


@dataclass(frozen=True)
class Snapshot:
    nodes: dict[str, Node]
    apps: dict[str, AppRecord]


class ConsulWatch:
    def __init__(self, consul_url: str, kv_prefix: str, health: Health, interval: float = 1.0) -> None:
        url = urlparse(consul_url)
        self._client = consul.Consul(host=url.hostname or "127.0.0.1", port=url.port or 8500)
        self._kv_prefix = kv_prefix
        self._health = health
        self._interval = interval
        self.snapshot = Snapshot(nodes={}, apps={})
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def start(self) -> None:
        self._health.set("consul", LinkState.CONNECTING)
        with contextlib.suppress(Exception):
            await self.refresh()
        self._task = asyncio.create_task(self._loop(), name="consul-watch")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def healthy_nodes(self) -> list[Node]:
        return [n for n in self.snapshot.nodes.values() if n.healthy]

    async def refresh(self) -> Snapshot:
        """Read nodes and apps now (also what the loop does every ``interval``)."""
        self.snapshot = await asyncio.to_thread(self._read)
        self._health.set("consul", LinkState.UP)
        return self.snapshot

    def _read(self) -> Snapshot:
        _, entries = self._client.health.service(NODE_SERVICE)
        _, drained = self._client.kv.get(drained_prefix(self._kv_prefix), recurse=True)
        _, app_items = self._client.kv.get(apps_prefix(self._kv_prefix), recurse=True)
        drained_ids = {item["Key"].rsplit("/", 1)[-1] for item in drained or []}
        nodes = {}
        for entry in entries:
            service = entry["Service"]
            meta = service.get("Meta") or {}
            passing = all(check["Status"] == "passing" for check in entry["Checks"])
            nodes[service["ID"]] = Node(
                node_id=service["ID"],
                ari_url=meta.get("ari_url", ""),
                sip_address=meta.get("sip_address", ""),
                healthy=passing,
                drained=service["ID"] in drained_ids,
            )
        apps = {}
        for item in app_items or []:
            with contextlib.suppress(ValueError, TypeError):
                record = AppRecord.model_validate(json.loads(item["Value"]))
                apps[record.name] = record
        return Snapshot(nodes=nodes, apps=apps)

    async def _loop(self) -> None:
        delay = self._interval
        while True:
            await asyncio.sleep(delay)
            try:
                await self.refresh()
                delay = self._interval
            except Exception as exc:  # any failure of Consul: keep the last snapshot, back off
                delay = min(delay * 2, 10.0)
                self._health.set("consul", LinkState.DOWN, f"{exc!r}; retry in {delay:.0f} s")
