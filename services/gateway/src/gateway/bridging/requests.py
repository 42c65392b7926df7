"""The ARI requests on a bridge that must see every node it spans: add, remove, destroy, get.

Everything else on a bridge (play, record, moh) runs on its home node and reaches remote members
through the legs' audio, so it is routed like any owned resource.
"""

import logging
from collections.abc import Awaitable, Callable

from gateway.bridging.cross_node import CrossNodeBridges
from gateway.exceptions import LinkFailed
from gateway.nodes import Node
from gateway.ownership import Kind
from gateway.routing.messages import AriAnswer, AriCall
from gateway.routing.sending import Sender

log = logging.getLogger(__name__)

BridgeRequest = Callable[[AriCall, Node, str], Awaitable[AriAnswer]]


class SpanningBridgeRequests:
    def __init__(self, sender: Sender, bridges: CrossNodeBridges) -> None:
        self._sender = sender
        self._bridges = bridges

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
        local = groups.pop(home.node_id, None)
        if local:
            answer = await self._sender.send(
                home, call.with_params(("channel",), [("channel", ",".join(local))])
            )
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
        await self._bridges.destroy_links(bridge_id)
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
