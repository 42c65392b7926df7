"""What the gateway records in Redis about a cluster's resources, read as the tests check it."""

import redis.asyncio as aioredis

from ariscale_cluster import Cluster
from ariscale_common.keyspace import Keyspace


async def recorded_channels(cluster: Cluster) -> set[str]:
    """Every channel id with an ownership entry or in a node's placement index."""
    keys = Keyspace(cluster.spec.redis_key_prefix)
    found: set[str] = set()
    async with aioredis.Redis.from_url(cluster.spec.redis_url, decode_responses=True) as client:
        owners = keys.owner("channel", "")
        async for key in client.scan_iter(match=f"{owners}*"):
            found.add(key[len(owners) :])
        for node in cluster.spec.nodes:
            found.update(str(c) for c in await client.zrange(keys.node_channels(node.node_id), 0, -1))
    return found
