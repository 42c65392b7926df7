"""Consul, through py-consul: the only module that touches it, always via ``asyncio.to_thread``.

py-consul is synchronous (requests). Two clients: one for the long blocking query on the app
list, one for registration and the TTL heartbeat, so a heartbeat never waits behind a watch.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import consul
from pydantic import ValidationError

from ariscale_common.discovery import NODE_SERVICE, AppRecord, NodeMeta, app_items, apps_prefix, mirrored

log = logging.getLogger(__name__)


class ConsulUnavailable(Exception):
    """Consul could not be reached or refused the request."""


class ConsulClient:
    def __init__(self, url: str, kv_prefix: str, node_id: str) -> None:
        parsed = urlparse(url)
        where = {"host": parsed.hostname or "127.0.0.1", "port": parsed.port or 8500, "scheme": parsed.scheme}
        self._agent = consul.Consul(**where, connections_timeout=5)
        self._watch = consul.Consul(**where, connections_timeout=5)
        self.kv_prefix = kv_prefix
        self.node_id = node_id

    @property
    def check_id(self) -> str:
        return f"{NODE_SERVICE}:{self.node_id}"

    async def register_node(self, meta: NodeMeta, ttl_s: float) -> None:
        """Register (or re-register: idempotent) this node's service with its TTL check."""
        check = {**consul.Check.ttl(f"{ttl_s:g}s"), "CheckID": self.check_id, "Name": "ARI answers"}
        await self._call(
            self._agent.agent.service.register,
            NODE_SERVICE,
            service_id=self.node_id,
            meta=meta.model_dump(),
            check=check,
            replace_existing_checks=True,
        )

    async def deregister_node(self) -> None:
        await self._call(self._agent.agent.service.deregister, self.node_id)

    async def pass_check(self, note: str) -> None:
        await self._call(self._agent.agent.check.ttl_pass, self.check_id, note)

    async def fail_check(self, note: str) -> None:
        await self._call(self._agent.agent.check.ttl_fail, self.check_id, note)

    async def apps(self, index: int | None, wait_s: int) -> tuple[int, list[AppRecord] | None]:
        """The app records under ``<prefix>apps/``, None when they are not the registry's mirror
        (Consul restarted empty); with ``index``, block until they change."""
        prefix = apps_prefix(self.kv_prefix)
        new_index, items = await self._call(
            self._watch.kv.get, prefix, index=index, recurse=True, wait=f"{wait_s}s"
        )
        if not mirrored(self.kv_prefix, items or []):
            return int(new_index), None
        records = []
        for item in app_items(self.kv_prefix, items or []):
            try:
                records.append(AppRecord.model_validate_json(item["Value"] or b""))
            except ValidationError as exc:
                log.warning("%s: ignoring KV %s: %s", self.node_id, item["Key"], exc.errors()[0]["msg"])
        return int(new_index), records

    @staticmethod
    async def _call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(func, *args, **kwargs)
        # requests' errors (refused, timed out, reset) are OSErrors: no need to import requests.
        except (consul.ConsulException, OSError) as exc:
            raise ConsulUnavailable(f"{type(exc).__name__}: {exc}") from exc
