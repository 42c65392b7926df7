"""Who is listening to an app: the gateways keep its live websocket instances in Redis.

``instances:<app>`` (:mod:`ariscale_common.keyspace`) is a sorted set; member = instance id,
score = the Unix time until which the instance counts as live (gateways renew their own; a lapsed
one stops counting).
The gateway writes it; the registry reads it to show an app's consumers.
"""

import time

from redis.asyncio import Redis

from ariscale_common.keyspace import Keyspace


async def live_consumers(redis: Redis, prefix: str, app: str) -> int:
    """How many instances of ``app`` are connected to a gateway right now."""
    return int(await redis.zcount(Keyspace(prefix).instances(app), f"({time.time()}", "+inf"))
