"""Apps registered through the cluster's registry (which mirrors them into Consul KV), and the
nodes' checks as Consul sees them, for the node-agent tests.

Apps go through the registry, not straight into KV: the registry re-syncs KV from its database
(every 30 s) and would delete a key it does not know, in the middle of a test.
"""

from typing import Any

import httpx

from ariscale_common.discovery import NODE_SERVICE


class ClusterApps:
    """Registers, changes and deletes apps; :meth:`aclose` deletes every app it registered."""

    def __init__(self, consul_url: str, registry_url: str, admin_token: str) -> None:
        self._consul = httpx.AsyncClient(base_url=consul_url, timeout=5)
        self._registry = httpx.AsyncClient(
            base_url=registry_url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=10
        )
        self._created: set[str] = set()

    async def put(self, name: str, extensions: list[str], enabled: bool = True) -> None:
        created = await self._registry.post("/apps", json={"name": name, "extensions": extensions})
        if created.status_code == 409:
            changed = await self._registry.patch(f"/apps/{name}", json={"extensions": extensions})
            changed.raise_for_status()
        else:
            created.raise_for_status()
        if not enabled:
            (await self._registry.patch(f"/apps/{name}", json={"enabled": False})).raise_for_status()
        self._created.add(name)

    async def delete(self, name: str) -> None:
        response = await self._registry.delete(f"/apps/{name}")
        if response.status_code != 404:
            response.raise_for_status()
        self._created.discard(name)

    async def node_checks(self) -> dict[str, str]:
        """node id -> status of its agent's TTL check ("passing", "critical" …)."""
        response = await self._consul.get(f"/v1/health/checks/{NODE_SERVICE}")
        response.raise_for_status()
        checks: list[dict[str, Any]] = response.json()
        return {c["ServiceID"]: c["Status"] for c in checks}

    async def aclose(self) -> None:
        for name in list(self._created):
            await self.delete(name)
        await self._consul.aclose()
        await self._registry.aclose()
