"""Channel entries Asterisk no longer has, found and forgotten: placement's counts heal themselves.

Redis is a cache and Asterisk the truth. An entry outlives its channel when the end event never
comes (an app removed while its calls lived on, a gateway killed between a node's answer and its
record); left alone, placement would count it for ever. Every ``interval`` one gateway (a lock)
compares each healthy node's index with the node's own channel list, and forgets what the node no
longer has and was recorded at least ``SETTLE_S`` before the node was asked (younger entries may be
channels still being created).
"""

import logging
import time

from ariscale_common.ari import AriError
from ariscale_common.background import Periodic
from gateway.nodes import Node, NodeClients
from gateway.ownership import OwnershipStore

log = logging.getLogger(__name__)

SETTLE_S = 10.0


class OwnershipAudit:
    def __init__(self, ownership: OwnershipStore, nodes: NodeClients, interval: float) -> None:
        self._ownership = ownership
        self._nodes = nodes
        self.task = Periodic("ownership-audit", self.audit, interval, first_delay=interval)

    async def audit(self) -> None:
        """One pass over every healthy node, unless another gateway is auditing."""
        if not await self._ownership.take_audit_turn(self.task.interval * 0.9):
            return
        for node in self._nodes.healthy():
            await self.audit_node(node)

    async def audit_node(self, node: Node) -> int:
        """Forget the node's recorded channels it no longer has; how many went."""
        asked_at = time.time()
        try:
            live = {str(c["id"]) for c in await self._nodes.client(node).get("/channels")}
        except (AriError, KeyError, TypeError):
            return 0  # a node that cannot answer now is the failover detector's business
        recorded = await self._ownership.channels_recorded_before(node.node_id, asked_at - SETTLE_S)
        stale = [channel for channel in recorded if channel not in live]
        if stale:
            await self._ownership.forget_stale_channels(node.node_id, stale)
            log.warning(
                "node %s no longer has %d recorded channel(s) whose end never came: forgotten (%s)",
                node.node_id, len(stale), ", ".join(stale[:5]),
            )  # fmt: skip
        return len(stale)
