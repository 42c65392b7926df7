"""Carrying a call to nodes: the owner of a resource, one node, or every healthy node.

A dead owner means a dead resource (404, and its ownership is dropped), except a bridge that
failover is moving to a survivor (503 ``bridge-moving``).
"""

import asyncio
import logging
from typing import Any, NoReturn

from ariscale_common.ari import AriError, AriTimeout, AriUnreachable
from gateway.bridging.cross_node import CrossNodeBridges
from gateway.exceptions import BridgeMoving, NodeTimedOut, ResourceNotFound
from gateway.locate import Locator
from gateway.nodes import Node, NodeClients
from gateway.ownership import Kind, OwnershipStore
from gateway.routing.messages import AriAnswer, AriCall

log = logging.getLogger(__name__)

NOT_FOUND = {
    Kind.CHANNEL: "Channel not found",
    Kind.BRIDGE: "Bridge not found",
    Kind.PLAYBACK: "Playback not found",
    Kind.RECORDING: "Recording not found",
    Kind.STORED: "Recording not found",
}


class Sender:
    """Sends calls to the nodes the gateway knows, and finds the node owning a resource."""

    def __init__(
        self, ownership: OwnershipStore, locator: Locator, nodes: NodeClients, bridges: CrossNodeBridges
    ) -> None:
        self.ownership = ownership
        self.locator = locator
        self.nodes = nodes
        self._bridges = bridges

    async def send(self, node: Node, call: AriCall) -> AriAnswer:
        """The node's answer; 504 naming the node when it is too slow (never taken for "gone")."""
        try:
            response = await self.nodes.client(node).send(
                call.op.method, call.path, call.query, call.body, call.content_type
            )
        except AriTimeout:
            raise NodeTimedOut(
                f"node {node.node_id} did not answer {call.op.method} {call.path} in time",
                {"node": node.node_id},
            ) from None
        return AriAnswer.of(response)

    async def send_or_forget(self, node: Node, call: AriCall, kind: Kind, resource_id: str) -> AriAnswer:
        """Send to the resource's owner; an owner that refuses the connection or is dead, or a 404
        on the resource itself, means the resource is gone."""
        try:
            answer = await self.send(node, call)
        except AriUnreachable:  # refused: Asterisk is not running there, whatever Consul says yet
            await self.gone(kind, resource_id, call.app, node.node_id)
        except AriError:
            if self.live_node(node.node_id) is not None:
                # A healthy node whose connection broke (reset, closed mid-request): the resource
                # may well live, and forgetting it would be for good. 503: ask again.
                raise
            await self.gone(kind, resource_id, call.app, node.node_id)
        if answer.status == 404 and _reads_the_resource_itself(call):
            await self.ownership.release(kind, resource_id)
        return answer

    async def gather_json(self, call: AriCall) -> list[Any]:
        """The decoded answers of every healthy node that answered with a success."""
        return [answer.decoded() for answer in await self.gather(call) if answer.ok]

    async def gather(self, call: AriCall) -> list[AriAnswer]:
        """The answers of every healthy node that answered (in node order)."""
        results = await asyncio.gather(
            *(self.send(node, call) for node in self.healthy()), return_exceptions=True
        )
        return [r for r in results if isinstance(r, AriAnswer)]

    async def owning_node(self, app: str, kind: Kind, resource_id: str) -> Node:
        """The live node owning the app's resource; 404 when it is not the app's or is gone."""
        owner = await self.locator.owner(kind, resource_id)
        if owner is None or owner.app != app:
            raise ResourceNotFound(NOT_FOUND[kind])
        node = self.live_node(owner.node)
        if node is None:
            await self.gone(kind, resource_id, app, owner.node)
        return node

    async def gone(self, kind: Kind, resource_id: str, app: str, node_id: str) -> NoReturn:
        """The owner node is dead: so is the resource, unless failover is moving it (a bridge
        with members on other nodes keeps its id and its ownership entry for that)."""
        if kind is Kind.BRIDGE and await self._bridges.leg_ids(resource_id):
            raise BridgeMoving(f"bridge {resource_id}'s node {node_id} died; it is moving to a survivor")
        # Forget it rather than hang or fail; and so that the node's last events, still on their
        # way, do not record it again.
        await self.ownership.forget_dead(kind, resource_id, node_id)
        log.warning("%s %s of app %s was on dead node %s: dropped", kind, resource_id, app, node_id)
        raise ResourceNotFound(NOT_FOUND[kind])

    def live_node(self, node_id: str) -> Node | None:
        node = self.nodes.node(node_id)
        return node if node is not None and node.healthy else None

    def healthy(self) -> list[Node]:
        return sorted(self.nodes.healthy(), key=lambda n: n.node_id)


def _reads_the_resource_itself(call: AriCall) -> bool:
    """GET /channels/{channelId} and the like: a 404 there means the resource is gone."""
    return call.op.method == "GET" and call.op.path.endswith("}") and len(call.op.path_params) == 1
