"""Everything the registry reads from and writes to Consul, behind one thread boundary.

py-consul is synchronous: every call runs in a worker thread (``asyncio.to_thread``), never on
the event loop. Each call reports the outcome to the ``consul`` link of ``/health``; failures
raise :class:`~registry.exceptions.ConsulUnavailable`. Key layout: ``ariscale_common.discovery``.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

import consul
import requests
from pydantic import ValidationError

from ariscale_common import Health, LinkState
from ariscale_common.discovery import (
    NODE_SERVICE,
    AppRecord,
    NodeMeta,
    app_key,
    apps_prefix,
    drained_key,
    drained_prefix,
    mirrored_key,
)
from registry.exceptions import ConsulUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
LINK = "consul"
_SEVERITY = {"passing": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class NodeEntry:
    """One instance of service ``asterisk`` with its aggregated check status."""

    node_id: str
    health: str  # the worst of its checks: passing, warning or critical
    meta: NodeMeta | None  # None when the agent registered meta we cannot read


class ConsulStore:
    def __init__(self, url: str, kv_prefix: str, health: Health, timeout: float = 5.0) -> None:
        parsed = urlparse(url)
        self.kv_prefix = kv_prefix
        self._health = health
        self._client = consul.Consul(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 8500,
            scheme=parsed.scheme or "http",
            connections_timeout=timeout,
        )

    async def aclose(self) -> None:
        """Close the HTTP connections to Consul (py-consul's own close leaves its session open, and
        Consul refuses a client past 200 connections: registries started in one process add up)."""
        await asyncio.to_thread(self._client.http.session.close)

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            result = await asyncio.to_thread(fn)
        except (requests.RequestException, consul.ConsulException) as exc:
            detail = f"{what}: {type(exc).__name__}: {exc}"
            self._health.set(LINK, LinkState.DOWN, detail)
            raise ConsulUnavailable(detail) from exc
        self._health.set(LINK, LinkState.UP)
        return result

    # -- apps (KV) ---------------------------------------------------------------------------

    async def put_app(self, record: AppRecord) -> None:
        key = app_key(self.kv_prefix, record.name)
        await self._call(f"put {key}", lambda: self._client.kv.put(key, record.model_dump_json()))

    async def delete_app(self, name: str) -> None:
        key = app_key(self.kv_prefix, name)
        await self._call(f"delete {key}", lambda: self._client.kv.delete(key))

    async def get_app(self, name: str) -> AppRecord | None:
        key = app_key(self.kv_prefix, name)
        _, item = await self._call(f"get {key}", lambda: self._client.kv.get(key))
        return AppRecord.model_validate_json(item["Value"]) if item and item.get("Value") else None

    async def apps(self) -> dict[str, str]:
        """Every app key's raw value (JSON text, or "" when not UTF-8/empty), by app name."""
        prefix = apps_prefix(self.kv_prefix)
        _, items = await self._call(f"list {prefix}", lambda: self._client.kv.get(prefix, recurse=True))
        return {i["Key"][len(prefix) :]: _text(i.get("Value")) for i in items or [] if i["Key"] != prefix}

    async def mark_mirrored(self) -> None:
        """Say that the app tree is the database's mirror (after a full re-sync)."""
        key = mirrored_key(self.kv_prefix)
        value = json.dumps({"at": time.time()})
        await self._call(f"put {key}", lambda: self._client.kv.put(key, value))

    async def is_mirrored(self) -> bool:
        """False when Consul lost the app tree (it restarted empty) and it needs a re-sync now."""
        key = mirrored_key(self.kv_prefix)
        _, item = await self._call(f"get {key}", lambda: self._client.kv.get(key))
        return item is not None

    # -- nodes (catalog, health, drained KV) -------------------------------------------------

    async def nodes(self) -> list[NodeEntry]:
        _, entries = await self._call(
            f"health of {NODE_SERVICE}", lambda: self._client.health.service(NODE_SERVICE)
        )
        return sorted((_node_entry(e) for e in entries), key=lambda n: n.node_id)

    async def drained(self) -> set[str]:
        prefix = drained_prefix(self.kv_prefix)
        _, keys = await self._call(f"list {prefix}", lambda: self._client.kv.get(prefix, keys=True))
        return {k[len(prefix) :] for k in keys or [] if k != prefix}

    async def set_drained(self, node_id: str, drained: bool) -> None:
        key = drained_key(self.kv_prefix, node_id)
        if drained:
            value = json.dumps({"since": time.time()})
            await self._call(f"put {key}", lambda: self._client.kv.put(key, value))
        else:
            await self._call(f"delete {key}", lambda: self._client.kv.delete(key))


def _text(value: bytes | None) -> str:
    try:
        return value.decode() if value else ""
    except UnicodeDecodeError:
        return ""


def _node_entry(entry: dict[str, Any]) -> NodeEntry:
    service = entry["Service"]
    statuses = [c.get("Status", "critical") for c in entry.get("Checks", [])]
    worst = max(statuses, key=lambda s: _SEVERITY.get(s, 2), default="passing")
    try:
        meta: NodeMeta | None = NodeMeta.model_validate(service.get("Meta") or {})
    except ValidationError as exc:  # listed all the same (its health counts), without addresses
        log.warning("node %s has malformed Consul meta, its addresses are unknown: %s", service["ID"], exc)
        meta = None
    return NodeEntry(node_id=service["ID"], health=worst if worst in _SEVERITY else "critical", meta=meta)
