"""Asterisk nodes as Consul sees them, enriched from each node's ARI; draining a node."""

import asyncio
from collections.abc import Callable

from registry.consul_store import ConsulStore, NodeEntry
from registry.exceptions import NodeNotFound
from registry.node_ari import NodeAri, NodeLive
from registry.schemas import NodePublic, NodesPublic

_UNREACHABLE = NodeLive(apps=None, channels=None, bridges=None, error="no ari_url in Consul meta")


class NodeService:
    def __init__(self, store: ConsulStore, node_ari: NodeAri, on_drain_change: Callable[[], None]) -> None:
        self._store = store
        self._node_ari = node_ari
        # Tells the SIP edge sync to recompute now rather than at its next poll.
        self._on_drain_change = on_drain_change

    async def list_all(self) -> NodesPublic:
        nodes, drained = await asyncio.gather(self._store.nodes(), self._store.drained())
        public = await asyncio.gather(*(self._public(n, n.node_id in drained) for n in nodes))
        return NodesPublic(data=list(public), count=len(public))

    async def set_drained(self, node_id: str, drained: bool) -> NodePublic:
        node = await self._find(node_id)
        await self._store.set_drained(node_id, drained)
        self._on_drain_change()
        return await self._public(node, drained)

    async def _find(self, node_id: str) -> NodeEntry:
        for node in await self._store.nodes():
            if node.node_id == node_id:
                return node
        raise NodeNotFound(node_id)

    async def _public(self, node: NodeEntry, drained: bool) -> NodePublic:
        live = await self._node_ari.live(node.meta.ari_url) if node.meta else _UNREACHABLE
        return NodePublic(
            id=node.node_id,
            health=node.health,
            drained=drained,
            ari_url=node.meta.ari_url if node.meta else None,
            sip_address=node.meta.sip_address if node.meta else None,
            asterisk_version=node.meta.asterisk_version if node.meta else None,
            apps=live.apps,
            channels=live.channels,
            bridges=live.bridges,
        )
