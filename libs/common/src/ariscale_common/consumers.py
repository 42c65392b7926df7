"""Who is listening to an app: the gateways keep its live websocket instances in Redis.

``<prefix>instances:<app>`` is a sorted set; member = instance id, score = the Unix time until
which the instance counts as live (gateways renew their own; a lapsed one stops counting).
The gateway writes it; the registry reads it to show an app's consumers.
"""

import time

from redis.asyncio import Redis


def instances_key(prefix: str, app: str) -> str:
    return f"{prefix}instances:{app}"


async def live_consumers(redis: Redis, prefix: str, app: str) -> int:
    """How many instances of ``app`` are connected to a gateway right now."""
    return int(await redis.zcount(instances_key(prefix, app), f"({time.time()}", "+inf"))
