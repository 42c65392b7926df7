"""Bridge operations that span nodes: membership, listing and destruction of a cross-node bridge.

The bridge lives on its home node; members elsewhere reach it through link legs (:mod:`.legs`). Everything
else on a bridge (play, record, moh) runs on the home node and reaches remote members through
the legs' audio, so it needs nothing here.
"""

import logging
from typing import Any

from ariscale_common.ari import AriError
from gateway.bridging.legs import Link, Linker, LinkError
from gateway.bridging.members import BridgeMembers
from gateway.bridging.view import MEMBERSHIP_EVENTS, app_view, is_leg
from gateway.locate import Locator
from gateway.nodes import Node, NodeClients
from gateway.ownership import Kind, OwnershipStore

log = logging.getLogger(__name__)


class CrossNodeBridges:
    def __init__(
        self,
        linker: Linker,
        locator: Locator,
        nodes: NodeClients,
        members: BridgeMembers,
        ownership: OwnershipStore,
    ) -> None:
        self._linker = linker
        self._locator = locator
        self._nodes = nodes
        self._members = members
        self._ownership = ownership

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

    async def destroy_links(self, app: str, bridge_id: str, home: Node) -> None:
        """Tear the links down before the bridge goes; its app still hears of its destruction."""
        if await self._linker.links(bridge_id):
            # One Asterisk tells an app of a bridge's end while a channel of the app is in it (the
            # channel's entry subscribes the app); members behind a link entered it on another node.
            try:
                await self._nodes.client(home).post(
                    f"/applications/{app}/subscription", params={"eventSource": f"bridge:{bridge_id}"}
                )
            except AriError as exc:
                if exc.status not in (404, 422):  # the app or the bridge is gone already: go on
                    raise
                log.info("bridge %s: no subscription for app %s before its end: %s", bridge_id, app, exc)
        await self._linker.unlink_all(bridge_id)

    async def linked(self, bridge_id: str) -> bool:
        return bool(await self._linker.links(bridge_id))

    async def leg_ids(self, bridge_id: str) -> set[str]:
        return {
            leg for link in await self._linker.links(bridge_id) for leg in (link.home_leg, link.remote_leg)
        }

    async def app_view(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The event as the app sees it (:func:`.view.app_view`), and a linked bridge in it as one
        Asterisk would describe it: every member on every node, its home's name and creationtime.
        None for a member's move into its re-homed bridge (see ``membership``) and for a member's
        BRIDGEPVTCALLID naming a link leg."""
        if await self._is_move(event) or await self._names_leg_call(event):
            return None
        seen = app_view(event)
        bridge = seen.get("bridge") if seen is not None else None
        if seen is None or not isinstance(bridge, dict):
            return seen
        node_bridge = str(event["bridge"].get("id", ""))
        bridge_id = str(bridge.get("id", ""))
        links = await self._linker.links(bridge_id)
        if not links and node_bridge == bridge_id:
            return seen  # a bridge on one node: Asterisk's own description
        channels = await self._app_channels([str(c) for c in bridge.get("channels") or []])
        channels += [c for c in await self._other_members(event, bridge_id, links) if c not in channels]
        described = links[0].home_bridge if links and node_bridge != bridge_id else {}
        return {**seen, "bridge": {**bridge, **described, "channels": channels}}

    async def _app_channels(self, channel_ids: list[str]) -> list[str]:
        """Apps' channels only: a link leg is never anybody's (even once its link is forgotten)."""
        owners = await self._ownership.get_many(Kind.CHANNEL, channel_ids)
        return [c for c, owner in zip(channel_ids, owners, strict=True) if owner is not None]

    async def _other_members(self, event: dict[str, Any], bridge_id: str, links: list[Link]) -> list[str]:
        """The members the event's node does not describe, as the other nodes last reported them."""
        if not links:
            return []
        node_bridge = str(event["bridge"].get("id", ""))
        if node_bridge == bridge_id:
            places = [(link.local_bridge, link.remote) for link in links]
        else:
            this_node = str((event.get("channel") or {}).get("id", "")).split("-", 1)[0]
            places = [(bridge_id, links[0].home)]
            places += [(link.local_bridge, link.remote) for link in links if link.remote != this_node]
        found: list[str] = []
        for key, node_id in places:
            found += [m.channel_id for m in await self._members.on_node(key, node_id)]
        return found

    async def _names_leg_call(self, event: dict[str, Any]) -> bool:
        if event.get("type") != "ChannelVarset" or event.get("variable") != "BRIDGEPVTCALLID":
            return False
        value = str(event.get("value", ""))
        return bool(value) and await self._linker.is_leg_call(value)

    async def _is_move(self, event: dict[str, Any]) -> bool:
        bridge, channel = event.get("bridge"), event.get("channel")
        if event.get("type") not in MEMBERSHIP_EVENTS or not isinstance(bridge, dict):
            return False
        if not isinstance(channel, dict):
            return False
        return await self._members.hides(str(event["type"]), str(bridge.get("id")), str(channel.get("id")))
