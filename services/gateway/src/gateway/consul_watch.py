"""The gateway's view of Consul: healthy nodes and registered apps, kept current by blocking queries.

Two long polls follow Consul (:mod:`ariscale_common.consul_query`): the node service's health, and
the KV under the prefix (apps and drained nodes). A change reaches the gateway at once, and an idle
gateway asks Consul twice per ``WAIT_S`` rather than several times a second. Readers get the last
snapshot without waiting. While Consul cannot be read, each poll backs off and /health says so.
"""

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from ariscale_common import Health, LinkState
from ariscale_common.consul_query import ConsulQuery, Following, LinkReport, consul_client
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

FRESH_GAP_S = 0.1  # fresh() reads Consul at most this often, however many ask


@dataclass(frozen=True)
class Snapshot:
    nodes: dict[str, Node]
    apps: dict[str, AppRecord]


class ConsulWatch:
    def __init__(self, consul_url: str, kv_prefix: str, health: Health, retry_s: float = 1.0) -> None:
        self._http = consul_client(consul_url)
        self._kv_prefix = kv_prefix
        self._health = health
        self.snapshot = Snapshot(nodes={}, apps={})
        self._nodes = ConsulQuery(self._http, "nodes", f"/v1/health/service/{NODE_SERVICE}")
        self._kv = ConsulQuery(self._http, "kv", f"/v1/kv/{kv_prefix}", kv=True, recurse="true")
        self._report = LinkReport(health)
        self._following = Following(self._http, [self._nodes, self._kv], self._rebuild, self._report, retry_s)
        self._reading: asyncio.Future[Snapshot] | None = None  # fresh()'s last read
        self._reading_started = 0.0  # loop time

    async def start(self) -> None:
        self._health.set("consul", LinkState.CONNECTING)
        with contextlib.suppress(Exception):
            await self.refresh()
        self._following.start()

    async def stop(self) -> None:
        await self._following.stop()

    def healthy_nodes(self) -> list[Node]:
        return [n for n in self.snapshot.nodes.values() if n.healthy]

    async def refresh(self) -> Snapshot:
        """Read nodes and apps now, without waiting for a change."""
        nodes, kv = await asyncio.gather(self._nodes.get(), self._kv.get())
        # The polls may have applied newer answers meanwhile: keep those.
        for query, (index, data) in ((self._nodes, nodes), (self._kv, kv)):
            if index >= query.index:
                query.take(index, data)
        self._rebuild()
        for query in (self._nodes, self._kv):
            self._report(query.name, None)
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
        except Exception as exc:  # Consul down: the polls report it
            log.debug("fresh read of Consul failed: %r", exc)
            return self.snapshot

    def _rebuild(self) -> None:
        """The snapshot from the last answers of both queries."""
        kv = self._kv.data
        drained = drained_prefix(self._kv_prefix)
        drained_ids = {item["Key"][len(drained) :] for item in kv if item["Key"].startswith(drained)}
        apps = [item for item in kv if item["Key"].startswith(apps_prefix(self._kv_prefix))]
        nodes = {node.node_id: node for node in (_node(entry, drained_ids) for entry in self._nodes.data)}
        if not mirrored(self._kv_prefix, apps):
            # Consul came back empty: the apps may still log in until the registry re-syncs.
            self.snapshot = Snapshot(nodes=nodes, apps=self.snapshot.apps)
        else:
            self.snapshot = Snapshot(nodes=nodes, apps=_app_records(app_items(self._kv_prefix, apps)))
        self._health.nodes = {node.node_id: _node_state(node) for node in nodes.values()}


def _node(entry: dict[str, Any], drained_ids: set[str]) -> Node:
    service = entry["Service"]
    meta = service.get("Meta") or {}
    return Node(
        node_id=service["ID"],
        ari_url=meta.get("ari_url", ""),
        sip_address=meta.get("sip_address", ""),
        started=meta.get("asterisk_started", ""),
        healthy=all(check["Status"] == "passing" for check in entry["Checks"]),
        drained=service["ID"] in drained_ids,
    )


def _node_state(node: Node) -> str:
    if not node.healthy:
        return "down"
    return "drained" if node.drained else "up"


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
