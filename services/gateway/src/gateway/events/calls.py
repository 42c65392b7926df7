"""The call index: which channels are in Stasis for each app, kept from every node's events (Redis).

Keys (:mod:`ariscale_common.keyspace`): ``calls:<app>`` — sorted set, member = channel id,
score = Unix time of its StasisStart; ``call-apps`` — apps that may have calls (pruned when empty).
Written with the ownership entries (:meth:`gateway.ownership.OwnershipStore.set_reported`, ``end``
and ``release_of_app`` index and unindex a call in the same script: one round trip per event), read
and pruned by :mod:`gateway.events.grace`.
"""

from redis.asyncio import Redis

from ariscale_common.keyspace import Keyspace
from gateway.redis_store import RedisStore, as_str

# Remove the app from the index only if it still has no calls (a StasisStart may have just come).
_PRUNE = "if redis.call('ZCARD', KEYS[1]) == 0 then return redis.call('SREM', KEYS[2], ARGV[1]) end return 0"


class CallIndex(RedisStore):
    """Channels in Stasis, per app."""

    def __init__(self, redis: Redis, keys: Keyspace) -> None:
        super().__init__(redis, keys)
        self._prune = redis.register_script(_PRUNE)

    def _key(self, app: str) -> str:
        return self._keys.calls(app)

    @property
    def _apps_key(self) -> str:
        return self._keys.call_apps()

    async def remove(self, app: str, channel_id: str) -> None:
        await self._redis.zrem(self._key(app), channel_id)

    async def apps(self) -> list[str]:
        members: set[bytes | str] = await self._redis.smembers(self._apps_key)
        return sorted(as_str(a) for a in members)

    async def calls(self, app: str, arrived_before: float = float("inf")) -> list[str]:
        upper = "+inf" if arrived_before == float("inf") else f"({arrived_before}"
        return [as_str(c) for c in await self._redis.zrangebyscore(self._key(app), "-inf", upper)]

    async def prune(self, app: str) -> None:
        await self._prune(keys=[self._key(app), self._apps_key], args=[app])
