"""The ARI requests on a bridge that must see every node it spans: add, remove, destroy, get.

Everything else on a bridge (play, record, moh) runs on its home node and reaches remote members
through the legs' audio, so it is routed like any owned resource.
"""

import logging
from collections.abc import Awaitable, Callable

from gateway.bridging.cross_node import CrossNodeBridges
from gateway.bridging.first_members import FirstMemberPlacement
from gateway.bridging.legs import INHIBIT_COLP
from gateway.exceptions import LinkFailed
from gateway.nodes import Node
from gateway.ownership import Kind
from gateway.routing.messages import AriAnswer, AriCall
from gateway.routing.sending import Sender

log = logging.getLogger(__name__)

BridgeRequest = Callable[[AriCall, Node, str], Awaitable[AriAnswer]]


class SpanningBridgeRequests:
    def __init__(self, sender: Sender, bridges: CrossNodeBridges, placing: FirstMemberPlacement) -> None:
        self._sender = sender
        self._bridges = bridges
        self._placing = placing

    def handler(self, nickname: str) -> BridgeRequest | None:
        """The handler of a bridge operation that spans nodes (by Swagger nickname), if it is one."""
        handlers: dict[str, BridgeRequest] = {
            "addChannel": self.add_channel,
            "removeChannel": self.remove_channel,
            "destroy": self.destroy,
            "get": self.get,
        }
        return handlers.get(nickname)

    async def add_channel(self, call: AriCall, home: Node, bridge_id: str) -> AriAnswer:
        groups, extra = await self._members_by_node(call)
        if groups is None:
            return AriAnswer.json(400, {"message": "Channel not found"})
        counts = {node_id: len(channel_ids) for node_id, channel_ids in groups.items()}
        async with self._placing.first_add(call.app, bridge_id, home, counts) as placed:
            home = placed or await self._sender.owning_node(call.app, Kind.BRIDGE, bridge_id)
            return await self._add(call, home, bridge_id, groups, extra)

    async def _add(
        self,
        call: AriCall,
        home: Node,
        bridge_id: str,
        groups: dict[str, list[str]],
        extra: list[tuple[str, str]],
    ) -> AriAnswer:
        local = groups.pop(home.node_id, None)
        if local:
            replaced: tuple[str, ...] = ("channel",)
            pairs = [("channel", ",".join(local))]
            if await self._bridges.linked(bridge_id):
                # Alone with a link leg, the member would be handed the leg's caller id.
                replaced, pairs = ("channel", INHIBIT_COLP), [*pairs, (INHIBIT_COLP, "true")]
            answer = await self._sender.send(home, call.with_params(replaced, pairs))
            if not answer.ok:
                return answer
        for node_id, channel_ids in groups.items():
            problem = await self._bridges.add_remote(bridge_id, home, node_id, channel_ids, extra)
            if problem:
                log.error(
                    "app %s: adding %s to bridge %s failed: %s", call.app, channel_ids, bridge_id, problem
                )
                raise LinkFailed(problem)
        return AriAnswer(204, b"")

    async def remove_channel(self, call: AriCall, home: Node, bridge_id: str) -> AriAnswer:
        groups, _ = await self._members_by_node(call)
        if groups is None:
            return AriAnswer.json(400, {"message": "Channel not found"})
        local = groups.pop(home.node_id, None)
        if local:
            answer = await self._sender.send(
                home, call.with_params(("channel",), [("channel", ",".join(local))])
            )
            if not answer.ok:
                return answer
        for node_id, channel_ids in groups.items():
            if await self._bridges.remove_remote(bridge_id, node_id, channel_ids):
                return AriAnswer.json(422, {"message": "Channel not in this bridge"})
        return AriAnswer(204, b"")

    async def destroy(self, call: AriCall, home: Node, bridge_id: str) -> AriAnswer:
        await self._bridges.destroy_links(call.app, bridge_id, home)
        await self._placing.destroyed(bridge_id)
        answer = await self._sender.send_or_forget(home, call, Kind.BRIDGE, bridge_id)
        if answer.ok:
            # BridgeDestroyed only reaches apps still subscribed to the bridge: do not wait for it.
            await self._sender.ownership.release(Kind.BRIDGE, bridge_id)
        return answer

    async def get(self, call: AriCall, home: Node, bridge_id: str) -> AriAnswer:
        answer = await self._sender.send_or_forget(home, call, Kind.BRIDGE, bridge_id)
        bridge = answer.decoded() if answer.ok else None
        return (
            AriAnswer.json(200, await self._bridges.members(bridge)) if isinstance(bridge, dict) else answer
        )

    async def _members_by_node(
        self, call: AriCall
    ) -> tuple[dict[str, list[str]] | None, list[tuple[str, str]]]:
        channel_ids = call.params.values("channel")
        extra = call.params.scalars("channel")  # role, mute…: for the members on other nodes too
        return await self._bridges.group_by_node(call.app, channel_ids), extra
