"""Bridge operations that span nodes: membership, listing and destruction of a cross-node bridge.

The bridge lives on its home node; members elsewhere reach it through link legs (:mod:`.legs`). Everything
else on a bridge (play, record, moh) runs on the home node and reaches remote members through
the legs' audio, so it needs nothing here.
"""

from typing import Any

from ariscale_common.ari import AriError
from gateway.bridging.legs import Linker, LinkError
from gateway.bridging.members import BridgeMembers
from gateway.bridging.view import MEMBERSHIP_EVENTS, app_bridge_id, app_view, is_leg
from gateway.locate import Locator
from gateway.nodes import Node, NodeClients
from gateway.ownership import Kind


class CrossNodeBridges:
    def __init__(self, linker: Linker, locator: Locator, nodes: NodeClients, members: BridgeMembers) -> None:
        self._linker = linker
        self._locator = locator
        self._nodes = nodes
        self._members = members

    async def group_by_node(self, app: str, channel_ids: list[str]) -> dict[str, list[str]] | None:
        """The app's channels grouped by the node they are on; None if one is not the app's."""
        groups: dict[str, list[str]] = {}
        for channel_id in channel_ids:
            owner = await self._locator.owner(Kind.CHANNEL, channel_id)
            if owner is None or owner.app != app:
                return None
            groups.setdefault(owner.node, []).append(channel_id)
        return groups

    async def add_remote(
        self, bridge_id: str, home: Node, node_id: str, channel_ids: list[str], extra: list[tuple[str, str]]
    ) -> str | None:
        """Add members that live on another node; an error message, or None on success."""
        remote = self._nodes.node(node_id)
        if remote is None or not remote.healthy:
            return "Channel not found"
        try:
            await self._linker.join(bridge_id, home, remote, channel_ids, extra)
        except (AriError, LinkError) as exc:
            return str(exc)
        return None

    async def remove_remote(self, bridge_id: str, node_id: str, channel_ids: list[str]) -> str | None:
        remote = self._nodes.node(node_id)
        if remote is None:
            return "Channel not found"
        try:
            await self._linker.leave(bridge_id, remote, channel_ids)
        except AriError as exc:
            return exc.message
        return None

    async def members(self, bridge: dict[str, Any]) -> dict[str, Any]:
        """The bridge as the app sees it: every member on every node, no legs."""
        links = await self._linker.links(str(bridge["id"]))
        home_legs = {link.home_leg for link in links}
        members = [c for c in bridge.get("channels", []) if c not in home_legs and not is_leg({"id": c})]
        for link in links:
            remote = self._nodes.node(link.remote)
            if remote is None:
                continue
            try:
                local = await self._nodes.client(remote).get(f"/bridges/{link.local_bridge}")
            except AriError:
                continue
            members += [c for c in local.get("channels", []) if c != link.remote_leg]
        return {**bridge, "channels": members}

    async def destroy_links(self, bridge_id: str) -> None:
        await self._linker.unlink_all(bridge_id)

    async def leg_ids(self, bridge_id: str) -> set[str]:
        return {
            leg for link in await self._linker.links(bridge_id) for leg in (link.home_leg, link.remote_leg)
        }

    async def app_view(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """``links.app_view`` with the legs of the event's bridge looked up (only bridge events);
        None as well for a member's move into its re-homed bridge (see ``membership``)."""
        bridge = event.get("bridge")
        legs: set[str] = set()
        if await self._is_move(event):
            return None
        if isinstance(bridge, dict) and bridge.get("channels"):
            bridge_id = str(bridge.get("id", ""))
            legs = await self.leg_ids(app_bridge_id(bridge_id) or bridge_id)
        return app_view(event, legs)

    async def _is_move(self, event: dict[str, Any]) -> bool:
        bridge, channel = event.get("bridge"), event.get("channel")
        if event.get("type") not in MEMBERSHIP_EVENTS or not isinstance(bridge, dict):
            return False
        if not isinstance(channel, dict):
            return False
        return await self._members.hides(str(event["type"]), str(bridge.get("id")), str(channel.get("id")))
