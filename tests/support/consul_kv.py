"""Apps written straight into the cluster's Consul KV (what the registry mirrors), for tests."""

from typing import Any

import httpx

from ariscale_common.discovery import NODE_SERVICE, AppRecord, app_key


class ConsulApps:
    """Puts and deletes ``AppRecord`` keys; :meth:`aclose` deletes every key it created."""

    def __init__(self, consul_url: str, kv_prefix: str = "ariscale/") -> None:
        self.kv_prefix = kv_prefix
        self._http = httpx.AsyncClient(base_url=consul_url, timeout=5)
        self._created: set[str] = set()

    async def put(self, name: str, extensions: list[str], enabled: bool = True) -> None:
        record = AppRecord(name=name, extensions=extensions, enabled=enabled)
        key = app_key(self.kv_prefix, name)
        response = await self._http.put(f"/v1/kv/{key}", content=record.model_dump_json())
        response.raise_for_status()
        self._created.add(name)

    async def delete(self, name: str) -> None:
        response = await self._http.delete(f"/v1/kv/{app_key(self.kv_prefix, name)}")
        response.raise_for_status()
        self._created.discard(name)

    async def node_checks(self) -> dict[str, str]:
        """node id -> status of its agent's TTL check ("passing", "critical" …)."""
        response = await self._http.get(f"/v1/health/checks/{NODE_SERVICE}")
        response.raise_for_status()
        checks: list[dict[str, Any]] = response.json()
        return {c["ServiceID"]: c["Status"] for c in checks}

    async def aclose(self) -> None:
        for name in list(self._created):
            await self.delete(name)
        await self._http.aclose()
