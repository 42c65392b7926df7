"""Carry one ARI request to the right node(s) according to its routing plan, and answer it.

The answer is Asterisk's own (status, body) whenever a node answered; the gateway only adds
its own errors for what no single Asterisk could know: another app's resource (404, as if it
did not exist), a dead owner node (404), no node at all (503).
"""

import asyncio
from typing import Any

from ariscale_common.ari import AriError
from gateway.bridging.cross_node import CrossNodeBridges
from gateway.bridging.first_members import FirstMemberPlacement
from gateway.bridging.requests import SpanningBridgeRequests
from gateway.bridging.view import app_bridge_id
from gateway.events.identity import ClusterIdentity
from gateway.exceptions import AdminOnly, NoNode, NotYourApp, ResourceNotFound
from gateway.locate import Locator
from gateway.nodes import NodeClients
from gateway.ownership import Kind, Owner, OwnershipStore
from gateway.routing.claims import IdClaims
from gateway.routing.creation import Creation
from gateway.routing.event_sources import EventSourceRequests
from gateway.routing.listing import merge_application, merge_lists
from gateway.routing.messages import AriAnswer, AriCall
from gateway.routing.moves import MOVE, TARGET_PARAM, ChannelMoves
from gateway.routing.plans import Policy
from gateway.routing.references import SUBSCRIPTIONS, check_references, own_devices
from gateway.routing.sending import Sender
from gateway.routing.validation import check_json_body, effective_parameters, validate
from gateway.routing.variables import check_variables

# Reads of node-wide state that tell one app about the others or about the host: global variables
# (the number → app map), configuration (PJSIP), log channels (host paths), modules.
_NODE_WIDE_READS = frozenset({
    ("asterisk", "getGlobalVar"), ("asterisk", "getObject"), ("asterisk", "listLogChannels"),
    ("asterisk", "listModules"), ("asterisk", "getModule"),
})  # fmt: skip

# Event sources that name a resource living on one node.


class AriGateway:
    """Answers an app's ARI request by its operation's routing policy (:mod:`.plans`)."""

    def __init__(
        self,
        ownership: OwnershipStore,
        locator: Locator,
        nodes: NodeClients,
        bridges: CrossNodeBridges,
        placing: FirstMemberPlacement,
        identity: ClusterIdentity,
        moves: ChannelMoves,
    ) -> None:
        self._ownership = ownership
        self._identity = identity
        self._locator = locator
        self._bridges = bridges
        self._sender = Sender(ownership, locator, nodes, bridges)
        self._claims = IdClaims(ownership, locator, nodes)
        self._creation = Creation(self._sender, self._claims, placing)
        self._sources = EventSourceRequests(self._sender)
        self._spanning = SpanningBridgeRequests(self._sender, bridges, placing)
        self._moves = moves

    async def handle(self, call: AriCall) -> AriAnswer:
        check_json_body(call.body, call.content_type)
        parameters = effective_parameters(call.params)
        validate(call.op, call.path_params, parameters)
        check_variables(call.op, parameters)
        await check_references(call, self._locator.owner)
        self._check_app_params(call)
        handlers = {
            Policy.OWNER: self._owner,
            Policy.CREATE: self._creation.create,
            Policy.LIST: self._list,
            Policy.APP: self._application,
            Policy.ANY: self._any,
            Policy.ALL: self._all,
        }
        return await handlers[call.plan.policy](call)

    async def _owner(self, call: AriCall) -> AriAnswer:
        assert call.plan.kind is not None and call.plan.id_param is not None
        kind, resource_id = call.plan.kind, call.path_params[call.plan.id_param]
        node = await self._sender.owning_node(call.app, kind, resource_id)
        spanning = self._spanning.handler(call.op.nickname) if kind is Kind.BRIDGE else None
        if spanning is not None:
            return await spanning(call, node, resource_id)
        claimed = await self._claims.claim_new_ids(call, node.node_id)
        answer = await self._sender.send_or_forget(node, call, kind, resource_id)
        if not answer.ok:
            await self._claims.release(claimed)
        elif call.op.nickname == MOVE:
            await self._moves.moved(call, node)
        elif call.plan.creates is not None:
            created = answer.decoded() or {}
            created_id = created.get(call.plan.created_id_field) if isinstance(created, dict) else None
            if created_id:
                owner = Owner(node.node_id, call.app)
                await self._creation.record_sub_resource(call.plan.creates, str(created_id), owner)
        return answer

    async def _list(self, call: AriCall) -> AriAnswer:
        answered = await self._sender.gather(call)
        if answered and not any(a.ok for a in answered):
            return answered[0]  # every node refused it alike (GET /mailboxes without its module: 404)
        answers = [a.decoded() for a in answered if a.ok]
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
        elif call.path == "/deviceStates":
            items = own_devices(call.app, merge_lists(call.path, answers))
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

    async def _endpoints(self, call: AriCall) -> AriAnswer:
        """One endpoint, or a technology's, across every node: only the app's own channels on them."""
        answers = await self._sender.gather_json(call)
        if not answers:
            return await self._first_answer(call)  # Asterisk's own 404 for an unknown endpoint
        if isinstance(answers[0], dict):
            merged = merge_application([a for a in answers if isinstance(a, dict)])
            return AriAnswer.json(200, await self._endpoint_view(call.app, merged))
        endpoints = merge_lists("/endpoints", [a for a in answers if isinstance(a, list)])
        return AriAnswer.json(200, [await self._endpoint_view(call.app, e) for e in endpoints])

    async def _application(self, call: AriCall) -> AriAnswer:
        if call.path_params.get("applicationName") != call.app:
            raise ResourceNotFound("Application not found")
        if call.op.nickname in SUBSCRIPTIONS:
            return await self._sources.subscription(call)
        if call.op.method != "GET":
            return await self._all(call)
        answers = [a for a in await self._sender.gather_json(call) if isinstance(a, dict)]
        if not answers:
            raise ResourceNotFound("Application not found")
        return AriAnswer.json(200, merge_application(answers))

    async def _any(self, call: AriCall) -> AriAnswer:
        if (call.op.resource, call.op.nickname) in _NODE_WIDE_READS:
            raise AdminOnly(f"{call.op.path} describes the node itself: it is for operators only")
        if call.op.resource == "endpoints":
            return await self._endpoints(call)
        if call.op.nickname == "userEvent":
            return await self._sources.user_event(call) or await self._first_answer(call)
        return await self._first_answer(call)

    async def _first_answer(self, call: AriCall) -> AriAnswer:
        for node in self._sender.healthy():
            try:
                answer = await self._sender.send(node, call)
            except AriError:
                continue
            if answer.ok and call.op.resource == "asterisk":
                return AriAnswer.json(
                    answer.status, self._identity.answer(call.op.nickname, answer.decoded())
                )
            return answer
        raise NoNode("no Asterisk node answered")

    async def _all(self, call: AriCall) -> AriAnswer:
        if call.op.resource == "asterisk":
            raise AdminOnly("changing node-wide Asterisk state is for operators, not applications")
        results = await asyncio.gather(
            *(self._sender.send(node, call) for node in self._sender.healthy()), return_exceptions=True
        )
        answers = [r for r in results if isinstance(r, AriAnswer)]
        if not answers:
            raise NoNode("no Asterisk node answered")
        return next((a for a in answers if not a.ok), answers[0])

    def _check_app_params(self, call: AriCall) -> None:
        if call.op.nickname == MOVE:
            self._moves.check(call)  # the one operation that may name another (registered) app
        for name in call.plan.app_params:
            if call.op.nickname == MOVE and name == TARGET_PARAM:
                continue
            value = call.query_value(name)
            if value and value != call.app:
                raise NotYourApp(f"{name}={value!r}: an application may only use its own name ({call.app!r})")

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
