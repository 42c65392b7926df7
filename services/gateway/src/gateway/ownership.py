"""Who owns what: resource (kind + id) → node + app, in Redis.

Redis is a cache and Asterisk the truth: a miss is answered by asking the nodes (see
``forwarding``), and every entry can be rebuilt from them. Creation claims with ``SET NX`` so
that two gateways creating the same id agree on one node. Channels are also indexed per node
(``node-channels:<node>``), so placement counts a node's channels without asking it.
"""

import enum
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.redis_store import RedisStore

# How long a resource forgotten with its dead node stays forgotten against that node's events
# still on their way (RabbitMQ, the tracker's queue): far longer than any such lag.
FORGOTTEN_FOR_S = 300

# SET the owner unless the resource was forgotten because this very node died; a channel also
# joins its node's index (KEYS[3], placement's counts) with score ARGV[3].
_SET_UNLESS_FORGOTTEN = """
if redis.call('GET', KEYS[2]) == ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[4] == 'channel' then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5]) end
return 1
"""

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


# Forget an entry and take a channel out of its node's index, in one step (the node is in the entry);
# with ARGV[4], only while the entry still names that app.
_RELEASE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, owner = pcall(cjson.decode, raw)
if ARGV[4] and not (ok and type(owner) == 'table' and owner.app == ARGV[4]) then return 0 end
if ARGV[2] == 'channel' and ok and type(owner) == 'table' and owner.node then
  redis.call('ZREM', ARGV[3] .. owner.node, ARGV[1])
end
return redis.call('DEL', KEYS[1])
"""


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
        if kind is not Kind.CHANNEL:
            await self._redis.set(self._key(kind, resource_id), owner.encode())
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(kind, resource_id), owner.encode())
            pipe.zadd(self._keys.node_channels(owner.node), {resource_id: time.time()})
            await pipe.execute()

    async def claim(self, kind: Kind, resource_id: str, owner: Owner) -> Owner:
        """Record ``owner`` unless someone already did; return whoever owns it now."""
        if await self._redis.set(self._key(kind, resource_id), owner.encode(), nx=True):
            if kind is Kind.CHANNEL:
                await self._redis.zadd(self._keys.node_channels(owner.node), {resource_id: time.time()})
            return owner
        current = await self.get(kind, resource_id)
        # Released between our SET NX and GET: try once more rather than report nobody.
        return current if current is not None else await self.claim(kind, resource_id, owner)

    async def set_reported(self, kind: Kind, resource_id: str, owner: Owner) -> bool:
        """Record ``owner`` as its node's event reports it; False if :meth:`forget_dead` forgot the
        resource with that node (the event was sent before the node died, and arrived after)."""
        keys = [self._key(kind, resource_id), self._keys.forgotten(kind.value, resource_id)]
        keys.append(self._keys.node_channels(owner.node))
        args: list[str | float] = [owner.encode(), owner.node, time.time(), kind.value, resource_id]
        return bool(await self._redis.eval(_SET_UNLESS_FORGOTTEN, 3, *keys, *args))

    async def release(self, kind: Kind, resource_id: str) -> None:
        key = self._key(kind, resource_id)
        await self._redis.eval(_RELEASE, 1, key, resource_id, kind.value, self._keys.node_channels(""))

    async def release_of_app(self, kind: Kind, resource_id: str, app: str) -> None:
        """Forget the entry only if it still names ``app`` (a channel moved on keeps its new app)."""
        key = self._key(kind, resource_id)
        await self._redis.eval(_RELEASE, 1, key, resource_id, kind.value, self._keys.node_channels(""), app)

    async def channel_counts(self, nodes: Sequence[str]) -> list[int]:
        """How many channels each of ``nodes`` owns, from the index (one round trip for all)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for node in nodes:
                pipe.zcard(self._keys.node_channels(node))
            return [int(n) for n in await pipe.execute()]

    async def forget_dead(self, kind: Kind, resource_id: str, node: str) -> None:
        """Drop the entry of a resource that died with ``node``, for good: see :meth:`set_reported`."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(kind, resource_id))
            if kind is Kind.CHANNEL:
                pipe.zrem(self._keys.node_channels(node), resource_id)
            pipe.set(self._keys.forgotten(kind.value, resource_id), node, ex=FORGOTTEN_FOR_S)
            await pipe.execute()

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
        await self._redis.delete(self._keys.node_channels(node))
        return dropped
