"""Who owns what: resource (kind + id) → node + app, in Redis.

Redis is a cache and Asterisk the truth: a miss is answered by asking the nodes (see
``forwarding``), and every entry can be rebuilt from them. Creation claims with ``SET NX`` so
that two gateways creating the same id agree on one node.
"""

import enum
import json
from dataclasses import dataclass

from gateway.redis_store import RedisStore

# Compare-and-delete in one step: nothing can re-point the entry between the check and the DEL.
_RELEASE_ON_NODE = """
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw).node == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Kind(enum.StrEnum):
    CHANNEL = "channel"
    BRIDGE = "bridge"
    PLAYBACK = "playback"
    RECORDING = "recording"  # live recordings
    STORED = "stored"  # stored recordings: files on one node's disk


@dataclass(frozen=True)
class Owner:
    node: str
    app: str

    def encode(self) -> str:
        return json.dumps({"node": self.node, "app": self.app})

    @classmethod
    def decode(cls, raw: str | bytes) -> "Owner":
        data = json.loads(raw)
        return cls(node=str(data["node"]), app=str(data["app"]))


class OwnershipStore(RedisStore):
    """Async access to ownership entries under ``<prefix>own:<kind>:<id>``."""

    def _key(self, kind: Kind, resource_id: str) -> str:
        return self._keys.owner(kind.value, resource_id)

    async def get(self, kind: Kind, resource_id: str) -> Owner | None:
        raw = await self._redis.get(self._key(kind, resource_id))
        return Owner.decode(raw) if raw is not None else None

    async def get_many(self, kind: Kind, resource_ids: list[str]) -> list[Owner | None]:
        if not resource_ids:
            return []
        raws = await self._redis.mget([self._key(kind, i) for i in resource_ids])
        return [Owner.decode(raw) if raw is not None else None for raw in raws]

    async def set(self, kind: Kind, resource_id: str, owner: Owner) -> None:
        await self._redis.set(self._key(kind, resource_id), owner.encode())

    async def claim(self, kind: Kind, resource_id: str, owner: Owner) -> Owner:
        """Record ``owner`` unless someone already did; return whoever owns it now."""
        if await self._redis.set(self._key(kind, resource_id), owner.encode(), nx=True):
            return owner
        current = await self.get(kind, resource_id)
        # Released between our SET NX and GET: try once more rather than report nobody.
        return current if current is not None else await self.claim(kind, resource_id, owner)

    async def release(self, kind: Kind, resource_id: str) -> None:
        await self._redis.delete(self._key(kind, resource_id))

    async def release_on(self, kind: Kind, resource_id: str, node: str) -> None:
        """Forget the entry only if it still names ``node`` (a bridge moved away keeps its new one)."""
        await self._redis.eval(_RELEASE_ON_NODE, 1, self._key(kind, resource_id), node)

    async def of_node(self, kind: Kind, node: str) -> dict[str, Owner]:
        """Every ``kind`` resource recorded on ``node`` (a scan: for failover only)."""
        found = {}
        start = len(self._key(kind, ""))
        async for key in self._redis.scan_iter(match=self._key(kind, "*"), count=500):
            raw = await self._redis.get(key)
            if raw is not None and Owner.decode(raw).node == node:
                name = key.decode() if isinstance(key, bytes) else str(key)
                found[name[start:]] = Owner.decode(raw)
        return found

    async def release_node(self, node: str) -> int:
        """Forget every resource of ``node`` (it died); return how many entries went."""
        dropped = 0
        async for key in self._redis.scan_iter(match=self._keys.all_owners(), count=500):
            raw = await self._redis.get(key)
            if raw is not None and Owner.decode(raw).node == node:
                dropped += await self._redis.delete(key)
        return dropped
