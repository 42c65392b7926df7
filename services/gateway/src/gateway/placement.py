"""Which node gets a new resource: the node of a related channel, else the least loaded one."""

import asyncio

from ariscale_common.ari import AriError
from gateway.nodes import Node, NodeClients


class NoNodeAvailable(Exception):
    pass


async def least_loaded(nodes: NodeClients) -> Node:
    """The healthy, undrained node with the fewest channels (ties: lowest node id)."""
    candidates = [n for n in nodes.healthy() if not n.drained]
    if not candidates:
        raise NoNodeAvailable("no healthy, undrained Asterisk node")
    counts = await asyncio.gather(*(_channel_count(nodes, n) for n in candidates))
    ranked = sorted(
        ((count, node.node_id, node) for count, node in zip(counts, candidates, strict=True) if count >= 0),
        key=lambda item: (item[0], item[1]),
    )
    if not ranked:
        raise NoNodeAvailable("no Asterisk node answered")
    return ranked[0][2]


async def _channel_count(nodes: NodeClients, node: Node) -> int:
    try:
        channels = await nodes.client(node).get("/channels")
    except AriError:
        return -1
    return len(channels) if isinstance(channels, list) else -1
