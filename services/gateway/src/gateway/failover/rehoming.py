"""A bridge whose home node died moves to a surviving node that has members, under the same id.

Bridge ``B`` of app ``A`` was homed on H, with link legs to member nodes X1, X2… (see
:mod:`gateway.bridging.legs`). H is dead: B, its members on H and the home ends of the legs are gone;
on each Xi the members still sit in the local bridge ``ariscale-link-B`` with the far end of a
dead leg. Rehoming:

1. picks the new home N: the surviving linked node with the most members (Asterisk is asked,
   not Redis), ties to the lowest node id (:func:`choose_home`);
2. creates ``B`` on N (same id, mixing, tagged with its app) and records *B → N* in ownership,
   before anything moves, so the events that follow are attributed to N;
3. moves N's members from its local bridge into B (``addChannel`` moves a channel out of its
   current bridge; the app does not see that move: for it they never left), then hangs up the
   dead leg's end on N and destroys N's local bridge;
4. re-links every other surviving member node to N: forgets the old link, hangs up its dead
   leg's end, and builds a new leg N → Xi into the local bridge that still holds the members.

With no surviving member node, the bridge is gone: its local bridges on the survivors are torn
down and the app is told ``BridgeDestroyed``. The members that were on H are told about by
:mod:`gateway.failover.detector` like those of any dead node.
"""

import logging

from ariscale_common.ari import AriError
from gateway.bridging.legs import Link, Linker, LinkError
from gateway.bridging.members import BridgeMembers
from gateway.locate import tag_bridge
from gateway.nodes import Node, NodeClients
from gateway.ownership import Kind, Owner, OwnershipStore

log = logging.getLogger(__name__)


def choose_home(members: dict[str, int]) -> str | None:
    """The node with the most members (ties: lowest id), or None when no node has any."""
    candidates = sorted((-count, node_id) for node_id, count in members.items() if count > 0)
    return candidates[0][1] if candidates else None


class Rehoming:
    def __init__(
        self, linker: Linker, nodes: NodeClients, ownership: OwnershipStore, marks: BridgeMembers
    ) -> None:
        self._linker = linker
        self._nodes = nodes
        self._ownership = ownership
        self._marks = marks  # the moves of step 3, hidden from the app

    async def rehome(self, bridge_id: str, app: str, links: list[Link]) -> Node | None:
        """Move ``bridge_id`` (its home died; ``links`` are its legs) to a survivor; None if none."""
        survivors = {link.remote: link for link in links if self._live(link.remote) is not None}
        counts = {node_id: len(await self._members(link)) for node_id, link in survivors.items()}
        home = self._live(choose_home(counts) or "")
        if home is None:
            for link in links:
                await self._linker.unlink(link)
            return None
        await self._create(home, bridge_id, app)
        await self._take_in(home, survivors[home.node_id])
        for node_id, link in survivors.items():
            if node_id != home.node_id:
                await self._relink(home, link)
        log.warning(
            "bridge %s of app %s re-homed from dead node %s to node %s (members per node: %s)",
            bridge_id, app, links[0].home, home.node_id, counts,
        )  # fmt: skip
        return home

    async def _members(self, link: Link) -> list[str]:
        """The app's channels in the link's local bridge, as the node itself lists them."""
        node = self._live(link.remote)
        if node is None:
            return []
        try:
            local = await self._nodes.client(node).get(f"/bridges/{link.local_bridge}")
        except AriError:
            return []
        return [str(c) for c in local.get("channels", []) if c != link.remote_leg]

    async def _create(self, home: Node, bridge_id: str, app: str) -> None:
        client = self._nodes.client(home)
        try:
            await client.post(f"/bridges/{bridge_id}", params={"type": "mixing"})
        except AriError as exc:
            if exc.status != 409:  # 409: a previous attempt created it already
                raise
        await tag_bridge(client, bridge_id, app)
        await self._ownership.set(Kind.BRIDGE, bridge_id, Owner(home.node_id, app))

    async def _take_in(self, home: Node, link: Link) -> None:
        """Move the new home's members from its local bridge into the bridge, then tear it down."""
        members = await self._members(link)
        if members:
            await self._marks.moving(link.bridge_id, members)
            await self._nodes.client(home).post(
                f"/bridges/{link.bridge_id}/addChannel", params={"channel": ",".join(members)}
            )
        await self._linker.unlink(link)

    async def _relink(self, home: Node, link: Link) -> None:
        """Carry a surviving member node's local bridge to the new home over a new leg."""
        remote = self._live(link.remote)
        if remote is None:
            return
        await self._linker.forget(link)
        try:
            await self._nodes.client(remote).delete(f"/channels/{link.remote_leg}")
        except AriError as exc:
            if exc.status != 404:
                raise
        try:
            await self._linker.ensure_link(link.bridge_id, home, remote)
        except LinkError:
            log.exception("bridge %s: re-linking node %s to new home %s failed",
                          link.bridge_id, remote.node_id, home.node_id)  # fmt: skip
            raise

    def _live(self, node_id: str) -> Node | None:
        node = self._nodes.node(node_id)
        return node if node is not None and node.healthy else None
