"""Who owns what: resource (kind + id) → node + app, in Redis.

Redis is a cache and Asterisk the truth: a miss is answered by asking the nodes (see
``forwarding``), and every entry can be rebuilt from them. Creation claims with ``SET NX`` so
that two gateways creating the same id agree on one node. Channels are also indexed per node
(``node-channels:<node>``), so placement counts a node's channels without asking it.
"""

import asyncio
import contextlib
import enum
import json
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from ariscale_common.keyspace import Keyspace
from gateway.redis_store import RedisStore

# How long a resource forgotten with its dead node stays forgotten against that node's events
# still on their way (RabbitMQ, the tracker's queue): far longer than any such lag.
FORGOTTEN_FOR_S = 300

# How long an ended resource's tombstone stops a creation record that lost the race with its end
# event (a call that fails at once can end before its node's 200 reaches the gateway).
ENDED_FOR_S = 60

# SET the owner unless the resource's end event came already (KEYS[2]); a channel also joins its
# node's index (KEYS[3]) with score ARGV[2].
_SET_UNLESS_ENDED = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[3] == 'channel' then redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4]) end
return 1
"""

# SET the owner unless the resource was forgotten because this very node died; a channel also
# joins its node's index (KEYS[3], placement's counts) with score ARGV[3], and, given KEYS[4] and
# KEYS[5], the call index of its app ARGV[6] (gateway.events.calls) in the same round trip.
_SET_UNLESS_FORGOTTEN = """
if redis.call('GET', KEYS[2]) == ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[4] == 'channel' then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5]) end
if KEYS[5] then
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[5])
  redis.call('SADD', KEYS[5], ARGV[6])
end
return 1
"""

# Take a channel out of node ARGV[1]'s index (KEYS[2]) and forget its entry if it names that node;
# the entry forgotten, or false. One step, so two gateways auditing at once cannot both get it.
_FORGET_STALE = """
redis.call('ZREM', KEYS[2], ARGV[2])
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw).node == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return raw
end
return false
"""

# Creations of one id wait for each other this long at most (a node answers within its timeout).
CREATING_FOR_S = 15.0
_CREATING_POLL_S = 0.02

# Delete KEYS[1] only if it still holds ARGV[1] (our token): a lock that expired is someone else's.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
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
# with a TTL (ARGV[4]), leave the tombstone KEYS[2] that says the resource ended; with an app
# (ARGV[5]), only while the entry still names that app. Given KEYS[3], the channel also leaves that
# call index (gateway.events.calls), whatever the entry says.
_RELEASE = """
if KEYS[3] then redis.call('ZREM', KEYS[3], ARGV[1]) end
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], '1', 'EX', ARGV[4]) end
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, owner = pcall(cjson.decode, raw)
if ARGV[5] ~= '' and not (ok and type(owner) == 'table' and owner.app == ARGV[5]) then return 0 end
if ARGV[2] == 'channel' and ok and type(owner) == 'table' and owner.node then
  redis.call('ZREM', ARGV[3] .. owner.node, ARGV[1])
end
return redis.call('DEL', KEYS[1])
"""


class OwnershipStore(RedisStore):
    """Async access to ownership entries under ``<prefix>own:<kind>:<id>``."""

    def __init__(self, redis: Redis, keys: Keyspace) -> None:
        super().__init__(redis, keys)
        # EVALSHA: the scripts are sent once, not with each of the two a call costs.
        self._unlock = redis.register_script(_UNLOCK)
        self._set_unless_ended = redis.register_script(_SET_UNLESS_ENDED)
        self._set_unless_forgotten = redis.register_script(_SET_UNLESS_FORGOTTEN)
        self._release_script = redis.register_script(_RELEASE)
        self._forget_stale = redis.register_script(_FORGET_STALE)
        self._release_on_node = redis.register_script(_RELEASE_ON_NODE)

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

    @contextlib.asynccontextmanager
    async def creating(self, kind: Kind, resource_id: str) -> AsyncIterator[None]:
        """One creation of ``resource_id`` at a time, across gateways: the second then hears the
        node's 409 (Asterisk answers simultaneous creations of one id with a 500)."""
        key, token = self._keys.creating(kind.value, resource_id), secrets.token_hex(8)
        deadline = time.monotonic() + CREATING_FOR_S
        ttl_ms = int(CREATING_FOR_S * 1000)
        # Past the deadline the creation goes ahead anyway: the lock's holder is stuck or gone.
        while time.monotonic() < deadline:
            if await self._redis.set(key, token, nx=True, px=ttl_ms):
                break
            await asyncio.sleep(_CREATING_POLL_S)
        try:
            yield
        finally:
            await self._unlock(keys=[key], args=[token])

    async def record_created(self, kind: Kind, resource_id: str, owner: Owner) -> bool:
        """Record a resource its node just created; False if its end event came first (see :meth:`end`)."""
        keys = [self._key(kind, resource_id), self._keys.ended(kind.value, resource_id)]
        keys.append(self._keys.node_channels(owner.node))
        args: list[str | float] = [owner.encode(), time.time(), kind.value, resource_id]
        return bool(await self._set_unless_ended(keys=keys, args=args))

    async def claim(self, kind: Kind, resource_id: str, owner: Owner) -> Owner:
        """Record ``owner`` unless someone already did; return whoever owns it now."""
        if await self._redis.set(self._key(kind, resource_id), owner.encode(), nx=True):
            async with self._redis.pipeline(transaction=False) as pipe:
                # The app reuses the id of a resource that ended: the new one has not.
                pipe.delete(self._keys.ended(kind.value, resource_id))
                if kind is Kind.CHANNEL:
                    pipe.zadd(self._keys.node_channels(owner.node), {resource_id: time.time()})
                await pipe.execute()
            return owner
        current = await self.get(kind, resource_id)
        # Released between our SET NX and GET: try once more rather than report nobody.
        return current if current is not None else await self.claim(kind, resource_id, owner)

    async def set_reported(
        self, kind: Kind, resource_id: str, owner: Owner, *, index_call: bool = False
    ) -> bool:
        """Record ``owner`` as its node's event reports it; False if :meth:`forget_dead` forgot the
        resource with that node (the event was sent before the node died, and arrived after).
        ``index_call``: the channel is also a call of the owner's app, from now (StasisStart)."""
        keys = [self._key(kind, resource_id), self._keys.forgotten(kind.value, resource_id)]
        keys.append(self._keys.node_channels(owner.node))
        if index_call:
            keys += [self._keys.calls(owner.app), self._keys.call_apps()]
        args = [owner.encode(), owner.node, repr(time.time()), kind.value, resource_id, owner.app]
        return bool(await self._set_unless_forgotten(keys=keys, args=args))

    async def release(self, kind: Kind, resource_id: str) -> None:
        """Forget the entry (the resource may live on, e.g. a channel gone back to the dialplan)."""
        await self._release(kind, resource_id, "")

    async def end(self, kind: Kind, resource_id: str, *, call_of: str = "") -> None:
        """Forget a resource whose end event came, so that a creation record still on its way skips it.
        ``call_of``: the channel is no longer a call of that app either."""
        await self._release(kind, resource_id, str(ENDED_FOR_S), unindex_call_of=call_of)

    async def release_of_app(self, kind: Kind, resource_id: str, app: str, *, end_call: bool = False) -> None:
        """Forget the entry only if it still names ``app`` (a channel moved on keeps its new app);
        ``end_call``: the channel is no longer a call of ``app`` either, whatever the entry says."""
        await self._release(kind, resource_id, "", app, unindex_call_of=app if end_call else "")

    async def _release(
        self, kind: Kind, resource_id: str, tombstone_ttl: str, app: str = "", unindex_call_of: str = ""
    ) -> None:
        keys = [self._key(kind, resource_id), self._keys.ended(kind.value, resource_id)]
        if unindex_call_of:
            keys.append(self._keys.calls(unindex_call_of))
        args = [resource_id, kind.value, self._keys.node_channels(""), tombstone_ttl, app]
        await self._release_script(keys=keys, args=args)

    async def channel_counts(self, nodes: Sequence[str]) -> list[int]:
        """How many channels each of ``nodes`` owns, from the index (one round trip for all)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for node in nodes:
                pipe.zcard(self._keys.node_channels(node))
            return [int(n) for n in await pipe.execute()]

    async def take_audit_turn(self, seconds: float) -> bool:
        """Whether this gateway audits now: one gateway per turn of ``seconds`` (see ownership_audit)."""
        return bool(
            await self._redis.set(self._keys.audit_lock(), "1", nx=True, px=max(100, int(seconds * 1000)))
        )

    async def channels_recorded_before(self, node: str, before: float) -> list[str]:
        """The node's indexed channels recorded before the time ``before``."""
        found = await self._redis.zrangebyscore(self._keys.node_channels(node), "-inf", before)
        return [c.decode() if isinstance(c, bytes) else str(c) for c in found]

    async def forget_stale_channels(self, node: str, channel_ids: Sequence[str]) -> dict[str, Owner]:
        """Forget channels ``node`` no longer has (entries naming another node are left alone);
        the entries this call forgot, which no other call gets too."""
        index = self._keys.node_channels(node)
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel_id in channel_ids:
                await self._forget_stale(
                    keys=[self._key(Kind.CHANNEL, channel_id), index], args=[node, channel_id], client=pipe
                )
            raws = await pipe.execute()
        return {c: Owner.decode(raw) for c, raw in zip(channel_ids, raws, strict=True) if raw}

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
        await self._release_on_node(keys=[self._key(kind, resource_id)], args=[node])

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
