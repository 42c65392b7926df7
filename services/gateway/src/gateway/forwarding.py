"""Carry one ARI request to the right node(s) according to its routing plan, and answer it.

The answer is Asterisk's own (status, body) whenever a node answered; the gateway only adds
its own errors for what no single Asterisk could know: another app's resource (404, as if it
did not exist), a dead owner node (404), no node at all (503).
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, NoReturn

import httpx

from ariscale_common.ari import AriError
from gateway import placement
from gateway.bridges import CrossNodeBridges
from gateway.consul_watch import Node
from gateway.exceptions import (
    AdminOnly,
    BridgeMoving,
    IdInUse,
    LinkFailed,
    NoNode,
    NotYourApp,
    ResourceNotFound,
)
from gateway.links import RESERVED_PREFIX, app_bridge_id
from gateway.listing import merge_application, merge_lists
from gateway.locate import APP_VARIABLE, Locator
from gateway.nodes import NodeClients
from gateway.ownership import Kind, Owner, OwnershipStore
from gateway.routing import Plan, Policy
from gateway.spec import Operation

log = logging.getLogger(__name__)

_NOT_FOUND = {
    Kind.CHANNEL: "Channel not found",
    Kind.BRIDGE: "Bridge not found",
    Kind.PLAYBACK: "Playback not found",
    Kind.RECORDING: "Recording not found",
    Kind.STORED: "Recording not found",
}

# Creation parameters naming a channel the new one belongs with (same node).
_RELATED_CHANNEL_PARAMS = ("otherChannelId", "originator")


@dataclass(frozen=True)
class AriCall:
    """One ARI request of one app, as the gateway received it."""

    op: Operation
    plan: Plan
    app: str
    path: str  # with values, relative to /ari: "/channels/n1-17.3/answer"
    path_params: dict[str, str]
    query: list[tuple[str, str]]  # without api_key
    body: bytes | None
    content_type: str = "application/json"

    def query_value(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)


@dataclass(frozen=True)
class AriAnswer:
    status: int
    content: bytes
    content_type: str = "application/json"

    @classmethod
    def of(cls, response: httpx.Response) -> "AriAnswer":
        return cls(response.status_code, response.content, response.headers.get("content-type", ""))

    @classmethod
    def json(cls, status: int, body: Any) -> "AriAnswer":
        return cls(status, json.dumps(body).encode())

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def decoded(self) -> Any:
        return json.loads(self.content) if self.content else None


class AriGateway:
    def __init__(
        self, ownership: OwnershipStore, locator: Locator, nodes: NodeClients, bridges: CrossNodeBridges
    ) -> None:
        self._ownership = ownership
        self._locator = locator
        self._nodes = nodes
        self._bridges = bridges
        # Bridge operations that must see every node the bridge spans.
        self._spanning: dict[str, Callable[[AriCall, Node, str], Awaitable[AriAnswer]]] = {
            "addChannel": self._add_channel,
            "removeChannel": self._remove_channel,
            "destroy": self._destroy_bridge,
            "get": self._get_bridge,
        }

    async def handle(self, call: AriCall) -> AriAnswer:
        self._check_app_params(call)
        handlers = {
            Policy.OWNER: self._owner,
            Policy.CREATE: self._create,
            Policy.LIST: self._list,
            Policy.APP: self._application,
            Policy.ANY: self._any,
            Policy.ALL: self._all,
        }
        return await handlers[call.plan.policy](call)

    # -- policies --------------------------------------------------------------------------------

    async def _owner(self, call: AriCall) -> AriAnswer:
        kind, resource_id = self._routed_resource(call)
        node = await self._owning_node(call.app, kind, resource_id)
        spanning = self._spanning.get(call.op.nickname) if kind is Kind.BRIDGE else None
        if spanning is not None:
            return await spanning(call, node, resource_id)
        answer = await self._send_or_forget(node, call, kind, resource_id)
        if answer.ok and call.plan.creates is not None:
            created = answer.decoded() or {}
            created_id = created.get(call.plan.created_id_field) if isinstance(created, dict) else None
            if created_id:
                await self._record(call.plan.creates, str(created_id), Owner(node.node_id, call.app))
        return answer

    async def _create(self, call: AriCall) -> AriAnswer:
        kind = call.plan.kind
        assert kind is not None and call.plan.id_param is not None
        node = await self._related_node(call) or await self._least_loaded()
        wanted_id = call.path_params.get(call.plan.id_param) or call.query_value(call.plan.id_param)
        if wanted_id and wanted_id.startswith(RESERVED_PREFIX):
            return AriAnswer.json(400, {"message": f"ids starting with {RESERVED_PREFIX!r} are reserved"})
        claimed = False
        if wanted_id:
            winner = await self._ownership.claim(kind, wanted_id, Owner(node.node_id, call.app))
            if winner.app != call.app and not await self._locator.exists(kind, wanted_id, winner.node):
                # Left over from a resource that is gone (Redis is only a cache): take it over.
                await self._ownership.release(kind, wanted_id)
                winner = await self._ownership.claim(kind, wanted_id, Owner(node.node_id, call.app))
            if winner.app != call.app:
                raise IdInUse(f"{kind} id {wanted_id!r} is in use by another application")
            claimed = winner.node == node.node_id
            node = self._live_node(winner.node) or node
        answer = await self._send(node, self._with_app_variable(call))
        if not answer.ok:
            if claimed:
                await self._ownership.release(kind, wanted_id or "")
            return answer
        created = answer.decoded()
        if isinstance(created, dict) and created.get("id"):
            await self._ownership.set(kind, str(created["id"]), Owner(node.node_id, call.app))
            if kind is Kind.BRIDGE:
                await self._tag_bridge(node, str(created["id"]), call.app)
            log.info("app %s created %s %s on node %s", call.app, kind, created["id"], node.node_id)
        return answer

    async def _list(self, call: AriCall) -> AriAnswer:
        answers = await self._gather_json(call)
        if call.path == "/channels":
            items = await self._only_app(call.app, Kind.CHANNEL, [i for a in answers for i in a])
        elif call.path == "/bridges":
            found = [i for a in answers for i in a if app_bridge_id(str(i.get("id"))) is None]
            items = [
                await self._bridges.members(b) for b in await self._only_app(call.app, Kind.BRIDGE, found)
            ]
        elif call.path == "/recordings/stored":
            items = await self._only_app(call.app, Kind.STORED, merge_lists(call.path, answers), "name")
        elif call.path == "/applications":
            mine = [[i for i in answer if i.get("name") == call.app] for answer in answers]
            present = [a[0] for a in mine if a]
            items = [merge_application(present)] if present else []
        elif call.path == "/endpoints":
            items = [await self._endpoint_view(call.app, e) for e in merge_lists(call.path, answers)]
        else:
            items = merge_lists(call.path, answers)
        return AriAnswer.json(200, items)

    async def _endpoint_view(self, app: str, endpoint: dict[str, Any]) -> dict[str, Any]:
        """An endpoint lists only the app's own channels on it (the endpoint is shared)."""
        channel_ids = [str(c) for c in endpoint.get("channel_ids", [])]
        owners = await self._ownership.get_many(Kind.CHANNEL, channel_ids)
        mine = [
            c for c, owner in zip(channel_ids, owners, strict=True) if owner is not None and owner.app == app
        ]
        return {**endpoint, "channel_ids": mine}

    async def _application(self, call: AriCall) -> AriAnswer:
        if call.path_params.get("applicationName") != call.app:
            raise ResourceNotFound("Application not found")
        if call.op.method != "GET":
            return await self._all(call)
        answers = [a for a in await self._gather_json(call) if isinstance(a, dict)]
        if not answers:
            raise ResourceNotFound("Application not found")
        return AriAnswer.json(200, merge_application(answers))

    async def _any(self, call: AriCall) -> AriAnswer:
        for node in self._healthy():
            try:
                return await self._send(node, call)
            except AriError:
                continue
        raise NoNode("no Asterisk node answered")

    async def _all(self, call: AriCall) -> AriAnswer:
        if call.op.resource == "asterisk":
            raise AdminOnly("changing node-wide Asterisk state is for operators, not applications")
        results = await asyncio.gather(
            *(self._send(node, call) for node in self._healthy()), return_exceptions=True
        )
        answers = [r for r in results if isinstance(r, AriAnswer)]
        if not answers:
            raise NoNode("no Asterisk node answered")
        return next((a for a in answers if not a.ok), answers[0])

    # -- bridges spanning nodes -----------------------------------------------------------------

    async def _add_channel(self, call: AriCall, home: Node, bridge_id: str) -> AriAnswer:
        groups, extra = await self._members_by_node(call)
        if groups is None:
            return AriAnswer.json(400, {"message": "Channel not found"})
        local = groups.pop(home.node_id, None)
        if local:
            answer = await self._send(home, replace(call, query=[("channel", ",".join(local)), *extra]))
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

    async def _remove_channel(self, call: AriCall, home: Node, bridge_id: str) -> AriAnswer:
        groups, _ = await self._members_by_node(call)
        if groups is None:
            return AriAnswer.json(400, {"message": "Channel not found"})
        local = groups.pop(home.node_id, None)
        if local:
            answer = await self._send(home, replace(call, query=[("channel", ",".join(local))]))
            if not answer.ok:
                return answer
        for node_id, channel_ids in groups.items():
            if await self._bridges.remove_remote(bridge_id, node_id, channel_ids):
                return AriAnswer.json(422, {"message": "Channel not in this bridge"})
        return AriAnswer(204, b"")

    async def _destroy_bridge(self, call: AriCall, home: Node, bridge_id: str) -> AriAnswer:
        await self._bridges.destroy_links(bridge_id)
        answer = await self._send_or_forget(home, call, Kind.BRIDGE, bridge_id)
        if answer.ok:
            # BridgeDestroyed only reaches apps still subscribed to the bridge: do not wait for it.
            await self._ownership.release(Kind.BRIDGE, bridge_id)
        return answer

    async def _get_bridge(self, call: AriCall, home: Node, bridge_id: str) -> AriAnswer:
        answer = await self._send_or_forget(home, call, Kind.BRIDGE, bridge_id)
        bridge = answer.decoded() if answer.ok else None
        return (
            AriAnswer.json(200, await self._bridges.members(bridge)) if isinstance(bridge, dict) else answer
        )

    async def _members_by_node(
        self, call: AriCall
    ) -> tuple[dict[str, list[str]] | None, list[tuple[str, str]]]:
        channel_ids = [c for c in (call.query_value("channel") or "").split(",") if c]
        extra = [(k, v) for k, v in call.query if k != "channel"]
        return await self._bridges.group_by_node(call.app, channel_ids), extra

    # -- pieces ----------------------------------------------------------------------------------

    def _check_app_params(self, call: AriCall) -> None:
        for name in call.plan.app_params:
            value = call.query_value(name)
            if value and value != call.app:
                raise NotYourApp(f"{name}={value!r}: an application may only use its own name ({call.app!r})")

    def _routed_resource(self, call: AriCall) -> tuple[Kind, str]:
        assert call.plan.kind is not None and call.plan.id_param is not None
        return call.plan.kind, call.path_params[call.plan.id_param]

    async def _owning_node(self, app: str, kind: Kind, resource_id: str) -> Node:
        owner = await self._locator.owner(kind, resource_id)
        if owner is None or owner.app != app:
            raise ResourceNotFound(_NOT_FOUND[kind])
        node = self._live_node(owner.node)
        if node is None:
            await self._gone(kind, resource_id, app, owner.node)
        assert node is not None
        return node

    async def _gone(self, kind: Kind, resource_id: str, app: str, node_id: str) -> NoReturn:
        """The owner node is dead: so is the resource, unless failover is moving it (a bridge
        with members on other nodes keeps its id and its ownership entry for that)."""
        if kind is Kind.BRIDGE and await self._bridges.leg_ids(resource_id):
            raise BridgeMoving(f"bridge {resource_id}'s node {node_id} died; it is moving to a survivor")
        # Forget it rather than hang or fail.
        await self._ownership.release(kind, resource_id)
        log.warning("%s %s of app %s was on dead node %s: dropped", kind, resource_id, app, node_id)
        raise ResourceNotFound(_NOT_FOUND[kind])

    async def _send_or_forget(self, node: Node, call: AriCall, kind: Kind, resource_id: str) -> AriAnswer:
        try:
            answer = await self._send(node, call)
        except AriError:
            await self._gone(kind, resource_id, call.app, node.node_id)
        if answer.status == 404 and _reads_the_resource_itself(call):
            await self._ownership.release(kind, resource_id)
        return answer

    async def _related_node(self, call: AriCall) -> Node | None:
        for name in _RELATED_CHANNEL_PARAMS:
            channel_id = call.query_value(name)
            if channel_id:
                owner = await self._locator.owner(Kind.CHANNEL, channel_id)
                if owner is not None and owner.app == call.app:
                    return self._live_node(owner.node)
        return None

    async def _least_loaded(self) -> Node:
        try:
            return await placement.least_loaded(self._nodes)
        except placement.NoNodeAvailable as exc:
            raise NoNode(str(exc)) from None

    async def _only_app(
        self, app: str, kind: Kind, items: list[dict[str, Any]], id_field: str = "id"
    ) -> list[dict[str, Any]]:
        ids = [str(item.get(id_field)) for item in items]
        owners = await self._ownership.get_many(kind, ids)
        mine = []
        for item, resource_id, owner in zip(items, ids, owners, strict=True):
            if owner is None and kind is not Kind.STORED:
                owner = await self._locator.owner(kind, resource_id)
            if owner is not None and owner.app == app:
                mine.append(item)
        return mine

    async def _record(self, kind: Kind, resource_id: str, owner: Owner) -> None:
        await self._ownership.set(kind, resource_id, owner)
        if kind is Kind.RECORDING:
            # The live recording becomes a stored one under the same name on the same node.
            await self._ownership.set(Kind.STORED, resource_id, owner)

    async def _tag_bridge(self, node: Node, bridge_id: str, app: str) -> None:
        """Bridges carry their app's name too (POST /bridges takes variables in another shape)."""
        try:
            await self._nodes.client(node).post(
                f"/bridges/{bridge_id}/variable", params={"variable": APP_VARIABLE, "value": app}
            )
        except AriError as exc:
            log.warning("could not tag bridge %s with its app %s: %s", bridge_id, app, exc)

    def _with_app_variable(self, call: AriCall) -> AriCall:
        """Tag new channels with their app's name, so ownership can be rebuilt from Asterisk."""
        if call.plan.kind is not Kind.CHANNEL:
            return call
        if not any(p.location == "body" and p.name == "variables" for p in call.op.params):
            return call
        try:
            body = json.loads(call.body) if call.body else {}
        except ValueError:
            return call  # Asterisk will answer the malformed body itself
        if not isinstance(body, dict):
            return call
        variables = body.get("variables")
        body["variables"] = {**(variables if isinstance(variables, dict) else {}), APP_VARIABLE: call.app}
        return replace(call, body=json.dumps(body).encode(), content_type="application/json")

    def _live_node(self, node_id: str) -> Node | None:
        node = self._nodes.node(node_id)
        return node if node is not None and node.healthy else None

    def _healthy(self) -> list[Node]:
        return sorted(self._nodes.healthy(), key=lambda n: n.node_id)

    async def _gather_json(self, call: AriCall) -> list[Any]:
        results = await asyncio.gather(
            *(self._send(node, call) for node in self._healthy()), return_exceptions=True
        )
        return [r.decoded() for r in results if isinstance(r, AriAnswer) and r.ok]

    async def _send(self, node: Node, call: AriCall) -> AriAnswer:
        response = await self._nodes.client(node).send(
            call.op.method, call.path, call.query, call.body, call.content_type
        )
        return AriAnswer.of(response)


def _reads_the_resource_itself(call: AriCall) -> bool:
    """GET /channels/{channelId} and the like: a 404 there means the resource is gone."""
    return call.op.method == "GET" and call.op.path.endswith("}") and len(call.op.path_params) == 1
