"""The gateway's view of Consul: healthy nodes and registered apps, kept current by blocking queries.

Two long polls follow Consul (its blocking queries: the answer comes as soon as something changed,
else after ``WAIT_S``): the node service's health, and the KV under the prefix (apps and drained
nodes). A change reaches the gateway at once, and an idle gateway asks Consul twice per ``WAIT_S``
rather than several times a second. Readers get the last snapshot without waiting. The HTTP is
async (httpx): nothing holds a thread, and stopping is immediate. While Consul cannot be read,
each poll backs off and /health says so.
"""

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ariscale_common import Health, LinkState
from ariscale_common.background import BackgroundTask
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

WAIT_S = 20  # a blocking query's longest wait (Consul adds up to 1/16 of it)
MAX_BACKOFF_S = 10.0
FRESH_GAP_S = 0.1  # fresh() reads Consul at most this often, however many ask
# Between two answers of one poll: an index that keeps changing must not become a busy loop.
MIN_GAP_S = 0.05


@dataclass(frozen=True)
class Snapshot:
    nodes: dict[str, Node]
    apps: dict[str, AppRecord]


@dataclass
class _Part:
    """One followed Consul query: its last answer and the index it came with."""

    name: str
    index: int = 0
    data: list[dict[str, Any]] = field(default_factory=list)


class ConsulWatch:
    def __init__(self, consul_url: str, kv_prefix: str, health: Health, retry_s: float = 1.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=consul_url.rstrip("/"), timeout=httpx.Timeout(5.0, read=WAIT_S * 1.25 + 5)
        )
        self._kv_prefix = kv_prefix
        self._health = health
        self._retry_s = retry_s
        self.snapshot = Snapshot(nodes={}, apps={})
        self._nodes = _Part("nodes")
        self._kv = _Part("kv")
        self._failing: set[str] = set()
        self._tasks = [
            BackgroundTask("consul-watch-nodes", lambda: self._follow(self._nodes, self._read_nodes)),
            BackgroundTask("consul-watch-kv", lambda: self._follow(self._kv, self._read_kv)),
        ]
        self._reading: asyncio.Future[Snapshot] | None = None  # fresh()'s last read
        self._reading_started = 0.0  # loop time

    async def start(self) -> None:
        self._health.set("consul", LinkState.CONNECTING)
        with contextlib.suppress(Exception):
            await self.refresh()
        for task in self._tasks:
            task.start()

    async def stop(self) -> None:
        for task in self._tasks:
            await task.stop()
        await self._http.aclose()

    def healthy_nodes(self) -> list[Node]:
        return [n for n in self.snapshot.nodes.values() if n.healthy]

    async def refresh(self) -> Snapshot:
        """Read nodes and apps now, without waiting for a change."""
        nodes, kv = await asyncio.gather(self._read_nodes(None), self._read_kv(None))
        # The polls may have applied newer answers meanwhile: keep those.
        for part, (index, data) in ((self._nodes, nodes), (self._kv, kv)):
            if index >= part.index:
                part.index, part.data = index, data
        self._rebuild()
        self._reached(self._nodes.name, self._kv.name)
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

    async def _follow(
        self, part: _Part, read: Callable[[int | None], Awaitable[tuple[int, list[dict[str, Any]]]]]
    ) -> None:
        """Answer after answer of one blocking query, each applied as it comes."""
        delay = self._retry_s
        while True:
            try:
                index, data = await read(max(part.index, 1))
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                part.index = 0  # Consul may come back restarted, with indexes from 1 again
                self._failed(part.name, f"{exc!r}; retry in {delay:.0f} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
                continue
            delay = self._retry_s
            changed = index != part.index
            # An index that went backwards is a restarted Consul: its answer is the truth now.
            part.index, part.data = index, data
            if changed:
                self._rebuild()
            self._reached(part.name)
            await asyncio.sleep(MIN_GAP_S)

    async def _read_nodes(self, index: int | None) -> tuple[int, list[dict[str, Any]]]:
        return await self._get(f"/v1/health/service/{NODE_SERVICE}", index)

    async def _read_kv(self, index: int | None) -> tuple[int, list[dict[str, Any]]]:
        index, items = await self._get(f"/v1/kv/{self._kv_prefix}", index, recurse="true")
        for item in items:  # as py-consul gives them (and the discovery helpers take them)
            item["Value"] = base64.b64decode(item["Value"]) if item.get("Value") else None
        return index, items

    async def _get(self, path: str, index: int | None, **params: str) -> tuple[int, list[dict[str, Any]]]:
        """A read of ``path``, blocking until its index passes ``index`` (if given)."""
        if index is not None:
            params |= {"index": str(index), "wait": f"{WAIT_S}s"}
        answer = await self._http.get(path, params=params)
        if answer.status_code == 404:  # a KV prefix with no key under it
            return int(answer.headers["X-Consul-Index"]), []
        answer.raise_for_status()
        new_index = int(answer.headers["X-Consul-Index"])
        body = answer.json()
        if not isinstance(body, list):
            raise TypeError(f"Consul answered {path} with {type(body).__name__}, not a list")
        return new_index, body

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

    def _reached(self, *parts: str) -> None:
        self._failing.difference_update(parts)
        if not self._failing:
            self._health.set("consul", LinkState.UP)

    def _failed(self, part: str, detail: str) -> None:
        self._failing.add(part)
        self._health.set("consul", LinkState.DOWN, detail)


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
