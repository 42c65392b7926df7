"""One gateway per node death: an incident is taken once, done once, and closed when the node heals.

``failover:<node>`` (:mod:`ariscale_common.keyspace`) — ``SET NX`` by the gateway that takes the
incident (with a TTL, in case that gateway dies mid-way), then ``done`` while the node stays dead,
so no gateway does it twice; deleted when the node is healthy again, so its next death is a new
incident.
"""

from redis.asyncio import Redis

from ariscale_common.keyspace import Keyspace
from gateway.redis_store import RedisStore

INCIDENT_TTL_S = 120  # a gateway that dies while recovering leaves the incident to another after this
RETRY_AFTER_S = 5  # a failed recovery, or a node whose ARI still answers, is looked at again after this
DONE = "done"


class Incidents(RedisStore):
    """One gateway per node death (Redis)."""

    def __init__(self, redis: Redis, keys: Keyspace, gateway_id: str) -> None:
        super().__init__(redis, keys)
        self._gateway_id = gateway_id

    def _key(self, node_id: str) -> str:
        return self._keys.incident(node_id)

    async def take(self, node_id: str) -> bool:
        return bool(await self._redis.set(self._key(node_id), self._gateway_id, nx=True, ex=INCIDENT_TTL_S))

    async def done(self, node_id: str) -> None:
        await self._redis.set(self._key(node_id), DONE)

    async def later(self, node_id: str) -> None:
        await self._redis.set(self._key(node_id), self._gateway_id, ex=RETRY_AFTER_S)

    async def close(self, node_id: str) -> None:
        """The node is healthy again: its next death is a new incident."""
        value = await self._redis.get(self._key(node_id))
        if value in (DONE, DONE.encode()):
            await self._redis.delete(self._key(node_id))
