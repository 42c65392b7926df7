"""What the registry asks each node's own ARI: its subscribed apps and live channel/bridge counts.

The node's ARI URL comes from its Consul meta (``NodeMeta.ari_url``); the ARI user and password
are the cluster's, from settings. A node that does not answer gives ``None`` values, not an error.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

from ariscale_common.ari import AriClient, AriError
from ariscale_common.dialplan import LINK_APP


@dataclass(frozen=True)
class NodeContents:
    """Every channel and bridge on one node, as its ARI lists them."""

    channels: list[dict[str, Any]]
    bridges: list[dict[str, Any]]


@dataclass(frozen=True)
class NodeLive:
    apps: list[str] | None
    channels: int | None
    bridges: int | None
    error: str | None = None


class NodeAri:
    def __init__(self, user: str, password: str, timeout: float) -> None:
        self._user = user
        self._password = password
        self._timeout = timeout

    async def applications(self, ari_url: str) -> list[str]:
        """Names of the Stasis apps the node has a websocket for; raises AriError."""
        client = AriClient(ari_url, self._user, self._password, timeout=self._timeout)
        try:
            return sorted(a["name"] for a in await client.get("/applications"))
        finally:
            await client.aclose()

    async def contents(self, ari_url: str) -> NodeContents:
        """The node's channels and bridges; raises AriError."""
        client = AriClient(ari_url, self._user, self._password, timeout=self._timeout)
        try:
            channels, bridges = await asyncio.gather(client.get("/channels"), client.get("/bridges"))
        finally:
            await client.aclose()
        return NodeContents(channels=channels, bridges=bridges)

    async def live(self, ari_url: str) -> NodeLive:
        """Apps (the internal link app left out), channel and bridge counts; None where ARI failed."""
        client = AriClient(ari_url, self._user, self._password, timeout=self._timeout)
        try:
            apps, channels, bridges = await asyncio.gather(
                client.get("/applications"), client.get("/channels"), client.get("/bridges")
            )
        except AriError as exc:
            return NodeLive(apps=None, channels=None, bridges=None, error=str(exc))
        finally:
            await client.aclose()
        names = sorted(a["name"] for a in apps if a["name"] != LINK_APP)
        return NodeLive(apps=names, channels=len(channels), bridges=len(bridges))
