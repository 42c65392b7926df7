"""The base of the gateway's Redis-backed stores: one client, keys named by the shared keyspace."""

from redis.asyncio import Redis

from ariscale_common.keyspace import Keyspace


def as_str(value: object) -> str:
    """A Redis reply item as text (the gateway's client does not decode replies)."""
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisStore:
    """A store of some of the gateway's state in Redis (key layout: :mod:`ariscale_common.keyspace`)."""

    def __init__(self, redis: Redis, keys: Keyspace) -> None:
        self._redis = redis
        self._keys = keys
