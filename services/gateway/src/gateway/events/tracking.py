"""Ownership and the call index, kept in step with every node's Stasis events.

Fed from the queue ``ariscale.gateway.ownership`` (every app, every node; one gateway at a time
consumes it, so events are applied in order). Node and app come from the routing key, which the
node agent wrote; the body is the event as Asterisk sent it. One method per event type, one
table (:data:`StasisTracker.handlers`); other types are ignored.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ariscale_common import fast_json
from ariscale_common.dialplan import LINK_APP
from gateway.bridging.members import BridgeMembers, Member
from gateway.bridging.view import app_bridge_id, is_leg
from gateway.ownership import Kind, Owner, OwnershipStore

log = logging.getLogger(__name__)

Event = dict[str, Any]


class StasisTracker:
    def __init__(
        self,
        ownership: OwnershipStore,
        members: BridgeMembers,
        member_left: Callable[[str, str], Awaitable[object]] | None = None,
    ) -> None:
        self._ownership = ownership
        # Who is in which bridge on which node: what a node that dies can no longer tell.
        self._members = members
        # Called with (bridge id, node) when a member leaves a bridge's local bridge on a node,
        # so the link leg can go with the last one.
        self._member_left = member_left
        self.handlers: dict[str, Callable[[Owner, Event], Awaitable[None]]] = {
            "StasisStart": self.stasis_start,
            "StasisEnd": self.stasis_end,
            "ApplicationMoveFailed": self.application_move_failed,
            "ChannelDestroyed": self.channel_destroyed,
            "BridgeDestroyed": self.bridge_destroyed,
            "ChannelEnteredBridge": self.channel_entered_bridge,
            "ChannelLeftBridge": self.channel_left_bridge,
            "PlaybackFinished": self.playback_finished,
            "RecordingFinished": self.recording_ended,
            "RecordingFailed": self.recording_ended,
        }

    async def handle(self, app: str, node: str, event_type: str, body: bytes) -> None:
        handler = self.handlers.get(event_type)
        # The internal link app's legs are the linking code's business, not an app's call.
        if handler is None or app == LINK_APP:
            return
        try:
            event = fast_json.loads(body)
        except ValueError:
            log.warning("%s from %s for %s is not JSON: %r", event_type, node, app, body[:200])
            return
        try:
            await handler(Owner(node=node, app=app), event)
        except (KeyError, TypeError):
            log.warning("%s from %s for %s lacks what it should have: %r", event_type, node, app, body[:200])

    async def stasis_start(self, owner: Owner, event: Event) -> None:
        channel_id = event["channel"]["id"]
        # Sent before its node died and consumed after the gateway forgot the channel with it:
        # recording it would bring a dead channel back.
        if not await self._ownership.set_reported(Kind.CHANNEL, channel_id, owner, index_call=True):
            log.info("StasisStart of %s from %s came after the node died: ignored", channel_id, owner.node)

    async def channel_entered_bridge(self, owner: Owner, event: Event) -> None:
        channel, bridge = event["channel"], event["bridge"]
        if not is_leg(channel):
            await self._members.entered(str(bridge["id"]), owner.node, Member(owner.app, channel, bridge))

    async def channel_left_bridge(self, owner: Owner, event: Event) -> None:
        node_bridge = str(event["bridge"]["id"])
        if not is_leg(event["channel"]):
            await self._members.left(node_bridge, owner.node, str(event["channel"]["id"]))
        bridge_id = app_bridge_id(node_bridge)
        if bridge_id is not None and self._member_left is not None:
            await self._member_left(bridge_id, owner.node)

    async def stasis_end(self, owner: Owner, event: Event) -> None:
        # Out of the app: nobody has to hang it up any more. Asterisk stops sending the app this
        # channel's events (ChannelDestroyed included), so forget it now; if it lives on in the
        # dialplan, a later request rebuilds the entry from the node.
        # After a move the entry already names the new app (gateway.routing.moves): leave it be.
        channel_id = event["channel"]["id"]
        await self._ownership.release_of_app(Kind.CHANNEL, channel_id, owner.app, end_call=True)

    async def application_move_failed(self, owner: Owner, event: Event) -> None:
        # Sent to the old app when the target was not there: the channel stayed where it was.
        await self._ownership.set_reported(Kind.CHANNEL, event["channel"]["id"], owner)

    async def channel_destroyed(self, owner: Owner, event: Event) -> None:
        await self._ownership.end(Kind.CHANNEL, event["channel"]["id"], call_of=owner.app)

    async def bridge_destroyed(self, owner: Owner, event: Event) -> None:
        bridge_id = str(event["bridge"]["id"])
        # Only the node holding it: a bridge moved to its first members lives on elsewhere.
        await self._ownership.release_on(Kind.BRIDGE, bridge_id, owner.node)
        await self._members.forget(bridge_id, owner.node)

    async def playback_finished(self, owner: Owner, event: Event) -> None:
        await self._ownership.end(Kind.PLAYBACK, event["playback"]["id"])

    async def recording_ended(self, owner: Owner, event: Event) -> None:
        await self._ownership.end(Kind.RECORDING, event["recording"]["name"])
