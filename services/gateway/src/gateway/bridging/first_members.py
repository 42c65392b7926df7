"""A bridge goes where its first members are: an unused bridge moves to them at its first addChannel.

Apps create a bridge before it has members (the seed's flow: on StasisStart, then add the
caller), so at creation nobody knows where its members will be. The gateway records each bridge
it creates (``placement:<bridge>``: its ``type`` and ``name``); the first addChannel takes that
record (atomically: one gateway, one request) and, when none of the channels is on the bridge's
node, re-creates the bridge under the same id on the node holding most of them, then destroys
the old one. Without this, a bridge whose members all share a node would carry every call over a
link leg.

Only an unused bridge moves, as Asterisk itself shows it: no member, no link leg, and its app not
subscribed to it (Asterisk sends an unsubscribed app no event of the bridge: neither the old one's
``BridgeDestroyed`` nor the new one's creation reach it). Other addChannels of the bridge wait
while it moves (the record reads ``placing``, with a TTL in case its gateway dies).
"""

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ariscale_common.ari import AriError
from gateway.bridging.legs import Linker
from gateway.locate import tag_bridge
from gateway.nodes import Node, NodeClients
from gateway.ownership import Kind, Owner, OwnershipStore
from gateway.redis_store import RedisStore

log = logging.getLogger(__name__)

UNUSED_TTL_S = 24 * 3600  # a bridge left unused this long stays where it is
PLACING_TTL_S = 15
POLL_S = 0.01
_PLACING = "placing"


def members_node(home: str, counts: dict[str, int]) -> str:
    """Where a bridge belongs, given how many of its first members each node holds: its own node if
    it holds any (no move), else the node holding most (ties: lowest id)."""
    if home in counts or not counts:
        return home
    return min(counts, key=lambda node_id: (-counts[node_id], node_id))


class PlacementStore(RedisStore):
    """``placement:<bridge>``: the creation parameters of a bridge nobody added to yet."""

    async def created(self, bridge_id: str, params: dict[str, str]) -> None:
        await self._redis.set(self._keys.placement(bridge_id), json.dumps(params), ex=UNUSED_TTL_S)

    async def take(self, bridge_id: str) -> dict[str, str] | str | None:
        """The record (now ours: it reads ``placing``), ``placing`` if another request holds it,
        or None when the bridge is settled."""
        old = await self._redis.set(
            self._keys.placement(bridge_id), _PLACING, xx=True, get=True, ex=PLACING_TTL_S
        )
        if old is None:
            return None
        text = old.decode() if isinstance(old, bytes) else str(old)
        if text == _PLACING:
            return _PLACING
        params = json.loads(text)
        return {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {}

    async def settled(self, bridge_id: str) -> None:
        await self._redis.delete(self._keys.placement(bridge_id))

    async def wait_settled(self, bridge_id: str, timeout: float = PLACING_TTL_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = await self._redis.get(self._keys.placement(bridge_id))
            if raw is None or (raw.decode() if isinstance(raw, bytes) else raw) != _PLACING:
                return
            await asyncio.sleep(POLL_S)


class FirstMemberPlacement:
    def __init__(
        self, store: PlacementStore, ownership: OwnershipStore, nodes: NodeClients, linker: Linker
    ) -> None:
        self._store = store
        self._ownership = ownership
        self._nodes = nodes
        self._linker = linker

    async def created(self, bridge_id: str, bridge_type: str | None, name: str | None) -> None:
        """A new bridge, not used yet: its first members decide where it lives."""
        params = {k: v for k, v in (("type", bridge_type), ("name", name)) if v}
        await self._store.created(bridge_id, params)

    async def destroyed(self, bridge_id: str) -> None:
        await self._store.settled(bridge_id)

    @asynccontextmanager
    async def first_add(
        self, app: str, bridge_id: str, home: Node, nodes_of_members: dict[str, int]
    ) -> AsyncIterator[Node | None]:
        """The bridge's home for this addChannel: moved first when this is its first use; None when
        another request moved it meanwhile (look it up again). Later adds wait for the first."""
        record = await self._store.take(bridge_id)
        if record == _PLACING:
            await self._store.wait_settled(bridge_id)
            yield None
            return
        if record is None:
            yield home
            return
        try:
            assert isinstance(record, dict)
            yield await self._place(app, bridge_id, home, nodes_of_members, record)
        finally:
            await self._store.settled(bridge_id)

    async def _place(
        self, app: str, bridge_id: str, home: Node, counts: dict[str, int], params: dict[str, str]
    ) -> Node:
        target_id = members_node(home.node_id, counts)
        if target_id == home.node_id:
            return home
        target = self._nodes.node(target_id)
        if target is None or not target.healthy or not await self._unused(app, bridge_id, home):
            return home
        try:
            await self._move(app, bridge_id, home, target, params)
        except AriError as exc:
            log.warning("bridge %s stays on node %s: moving it to %s failed: %s",
                        bridge_id, home.node_id, target.node_id, exc)  # fmt: skip
            return home
        return target

    async def _unused(self, app: str, bridge_id: str, home: Node) -> bool:
        """No member, no link, and the app not subscribed to it (as the home node says)."""
        client = self._nodes.client(home)
        try:
            bridge = await client.get(f"/bridges/{bridge_id}")
            application = await client.get(f"/applications/{app}")
        except AriError:
            return False
        if bridge.get("channels") or bridge_id in application.get("bridge_ids", []):
            return False
        return not await self._linker.links(bridge_id)

    async def _move(self, app: str, bridge_id: str, home: Node, target: Node, params: dict[str, str]) -> None:
        """Same id on ``target`` first (so requests meanwhile still find one), then the old one goes."""
        client = self._nodes.client(target)
        await client.post(f"/bridges/{bridge_id}", params=params)
        await tag_bridge(client, bridge_id, app)
        await self._ownership.set(Kind.BRIDGE, bridge_id, Owner(target.node_id, app))
        try:
            await self._nodes.client(home).delete(f"/bridges/{bridge_id}")
        except AriError as exc:
            if exc.status != 404:
                raise
        log.info("bridge %s of app %s moved to its first members' node %s (from %s)",
                 bridge_id, app, target.node_id, home.node_id)  # fmt: skip
