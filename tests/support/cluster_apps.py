"""Apps registered through the cluster's registry (which mirrors them into Consul KV), and the
nodes' checks as Consul sees them, for the node-agent tests.

Apps go through the registry, not straight into KV: the registry re-syncs KV from its database
(every 30 s) and would delete a key it does not know, in the middle of a test.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from ariscale_common.discovery import NODE_SERVICE
from tests.support.node_agent import served
from tests.support.waiting import until


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


@dataclass(frozen=True)
class FreshApp:
    """A fresh app name and number on a cluster: registers it and says which nodes serve it."""

    name: str
    extension: str
    apps: ClusterApps
    node_aris: dict[str, str]
    ari_auth: tuple[str, str]

    async def put(self) -> None:
        await self.apps.put(self.name, [self.extension])

    def served_by(self, node_id: str) -> Callable[[], Awaitable[bool]]:
        """A check for :func:`until`: ``node_id`` has the app subscribed and routes its number."""
        return partial(served, self.node_aris[node_id], self.ari_auth, self.name, self.extension)

    async def put_and_wait_served(self, *node_ids: str) -> None:
        """Register the app and wait until ``node_ids`` (default: every node) serve it."""
        await self.put()
        for node_id in node_ids or tuple(self.node_aris):
            await until(self.served_by(node_id), message=f"{self.name} served by {node_id}")
