"""Who owns what: resource (kind + id) → node + app, in Redis.

Redis is a cache and Asterisk the truth: a miss is answered by asking the nodes (see
``forwarding``), and every entry can be rebuilt from them. Creation claims with ``SET NX`` so
that two gateways creating the same id agree on one node.
"""

import enum
import json
from dataclasses import dataclass

from gateway.redis_store import RedisStore

# How long a resource forgotten with its dead node stays forgotten against that node's events
# still on their way (RabbitMQ, the tracker's queue): far longer than any such lag.
FORGOTTEN_FOR_S = 300

# SET the owner unless the resource was forgotten because this very node died.
_SET_UNLESS_FORGOTTEN = (
    "if redis.call('GET', KEYS[2]) == ARGV[2] then return 0 end redis.call('SET', KEYS[1], ARGV[1]) return 1"
)


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

    async def set_reported(self, kind: Kind, resource_id: str, owner: Owner) -> bool:
        """Record ``owner`` as its node's event reports it; False if :meth:`forget_dead` forgot the
        resource with that node (the event was sent before the node died, and arrived after)."""
        forgotten = self._keys.forgotten(kind.value, resource_id)
        keys_and_args = [self._key(kind, resource_id), forgotten, owner.encode(), owner.node]
        return bool(await self._redis.eval(_SET_UNLESS_FORGOTTEN, 2, *keys_and_args))

    async def release(self, kind: Kind, resource_id: str) -> None:
        await self._redis.delete(self._key(kind, resource_id))

    async def forget_dead(self, kind: Kind, resource_id: str, node: str) -> None:
        """Drop the entry of a resource that died with ``node``, for good: see :meth:`set_reported`."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(kind, resource_id))
            pipe.set(self._keys.forgotten(kind.value, resource_id), node, ex=FORGOTTEN_FOR_S)
            await pipe.execute()

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
