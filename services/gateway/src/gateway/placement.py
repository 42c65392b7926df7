"""Which node gets a new resource: the node of a related channel, else the least loaded one.

A node's load is how many channels it owns in Redis (:meth:`OwnershipStore.channel_counts`):
one round trip for all nodes, whatever their number of calls; no node is asked.
"""

from gateway.nodes import Node, NodeClients
from gateway.ownership import OwnershipStore


class NoNodeAvailable(Exception):
    pass


async def least_loaded(nodes: NodeClients, ownership: OwnershipStore) -> Node:
    """The healthy, undrained node with the fewest channels (ties: lowest node id)."""
    candidates = [n for n in nodes.healthy() if not n.drained]
    if not candidates:
        raise NoNodeAvailable("no healthy, undrained Asterisk node")
    counts = await ownership.channel_counts([n.node_id for n in candidates])
    ranked = sorted(zip(counts, candidates, strict=True), key=lambda item: (item[0], item[1].node_id))
    return ranked[0][1]
