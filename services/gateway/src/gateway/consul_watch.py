"""The gateway's view of Consul: healthy nodes and registered apps, refreshed in the background.

py-consul is synchronous, so every call runs in a thread; readers get the last snapshot
without waiting. The loop backs off while Consul is unreachable and reports it in /health.
"""

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import consul

from ariscale_common import Health, LinkState
from ariscale_common.background import Periodic
from ariscale_common.discovery import (
    NODE_SERVICE,
    AppRecord,
    app_items,
    apps_prefix,
    drained_prefix,
    mirrored,
)
from gateway.nodes import Node

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 10.0
FRESH_GAP_S = 0.1  # fresh() reads Consul at most this often, however many ask


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
        self._delay = interval
        self._task = Periodic("consul-watch", self._refresh_with_backoff, interval, first_delay=interval)
        self._changed = asyncio.Event()
        self._reading: asyncio.Future[Snapshot] | None = None  # fresh()'s last read
        self._reading_started = 0.0  # loop time

    async def start(self) -> None:
        self._health.set("consul", LinkState.CONNECTING)
        with contextlib.suppress(Exception):
            await self.refresh()
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    def healthy_nodes(self) -> list[Node]:
        return [n for n in self.snapshot.nodes.values() if n.healthy]

    async def refresh(self) -> Snapshot:
        """Read nodes and apps now (also what the loop does every ``interval``)."""
        self.snapshot = await asyncio.to_thread(self._read)
        self._health.set("consul", LinkState.UP)
        return self.snapshot

    async def fresh(self) -> Snapshot:
        """A snapshot read after this call began: one read for all who ask meanwhile, at most one
        every ``FRESH_GAP_S``; the last snapshot when Consul cannot be read."""
        loop = asyncio.get_running_loop()
        asked = loop.time()
        if self._reading is not None and not self._reading.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._reading)  # started before we asked: not enough
        if self._reading is None or self._reading_started < asked:
            gap = self._reading_started + FRESH_GAP_S - loop.time()
            if gap > 0:
                await asyncio.sleep(gap)
            if self._reading is None or self._reading_started < asked:  # nobody started one meanwhile
                self._reading_started = loop.time()
                self._reading = asyncio.ensure_future(self.refresh())
        try:
            return await asyncio.shield(self._reading)
        except Exception as exc:  # Consul down: the background loop reports it
            log.debug("fresh read of Consul failed: %r", exc)
            return self.snapshot

    def _read(self) -> Snapshot:
        _, entries = self._client.health.service(NODE_SERVICE)
        _, drained = self._client.kv.get(drained_prefix(self._kv_prefix), recurse=True)
        _, kv_apps = self._client.kv.get(apps_prefix(self._kv_prefix), recurse=True)
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
                started=meta.get("asterisk_started", ""),
                healthy=passing,
                drained=service["ID"] in drained_ids,
            )
        if not mirrored(self._kv_prefix, kv_apps or []):
            # Consul came back empty: the apps may still log in until the registry re-syncs.
            return Snapshot(nodes=nodes, apps=self.snapshot.apps)
        return Snapshot(nodes=nodes, apps=_app_records(app_items(self._kv_prefix, kv_apps or [])))

    async def _refresh_with_backoff(self) -> float:
        """One refresh; on failure keep the last snapshot and back off (the delay until the next)."""
        try:
            await self.refresh()
            self._delay = self._interval
        except Exception as exc:  # any failure of Consul is the same to us: it is down for now
            self._delay = min(self._delay * 2, MAX_BACKOFF_S)
            self._health.set("consul", LinkState.DOWN, f"{exc!r}; retry in {self._delay:.0f} s")
        return self._delay


def _app_records(items: list[dict[str, Any]]) -> dict[str, AppRecord]:
    """The apps in Consul KV; a malformed record is logged (its app cannot log in) and skipped."""
    apps = {}
    for item in items:
        try:
            record = AppRecord.model_validate(json.loads(item["Value"] or b""))
        except (ValueError, TypeError) as exc:
            log.warning(
                "app record %s in Consul is malformed, the app cannot log in: %s", item.get("Key"), exc
            )
            continue
        apps[record.name] = record
    return apps
