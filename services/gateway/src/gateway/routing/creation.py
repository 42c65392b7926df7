"""New channels and bridges: which node gets them, the id claimed for the app, and the tags that let
ownership be rebuilt from Asterisk."""

import json
import logging
from dataclasses import replace

from ariscale_common.ari import AriError
from ariscale_common.dialplan import RESERVED_PREFIX
from gateway import placement
from gateway.bridging.first_members import FirstMemberPlacement
from gateway.exceptions import NoNode
from gateway.locate import APP_VARIABLE, tag_bridge
from gateway.nodes import Node
from gateway.ownership import Kind, Owner
from gateway.routing.claims import IdClaims
from gateway.routing.messages import AriAnswer, AriCall
from gateway.routing.parameters import FORM, JSON, media_type
from gateway.routing.sending import Sender

log = logging.getLogger(__name__)

# Creation parameters naming a channel the new one belongs with (same node).
_RELATED_CHANNEL_PARAMS = ("otherChannelId", "originator")


class Creation:
    def __init__(self, sender: Sender, claims: IdClaims, placing: FirstMemberPlacement) -> None:
        self._sender = sender
        self._ownership = sender.ownership
        self._claims = claims
        self._placing = placing

    async def create(self, call: AriCall) -> AriAnswer:
        kind = call.plan.kind
        assert kind is not None and call.plan.id_param is not None
        node = await self._related_node(call) or await self._least_loaded()
        wanted_id = call.path_params.get(call.plan.id_param) or call.query_value(call.plan.id_param)
        if wanted_id and wanted_id.startswith(RESERVED_PREFIX):
            return AriAnswer.json(400, {"message": f"ids starting with {RESERVED_PREFIX!r} are reserved"})
        if not wanted_id:
            return await self._create(call, kind, node, None)
        async with self._ownership.creating(kind, wanted_id):
            return await self._create(call, kind, node, wanted_id)

    async def _create(self, call: AriCall, kind: Kind, node: Node, wanted_id: str | None) -> AriAnswer:
        claimed = False  # this request recorded the id: a refusal gives it up again
        if wanted_id:
            known = await self._ownership.get(kind, wanted_id)
            node, on_node = await self._claim(call.app, kind, wanted_id, node)
            claimed = known is None and on_node
        others = await self._claims.claim_new_ids(call, node.node_id)  # e.g. otherChannelId
        answer = await self._sender.send(node, self._with_app_variable(call))
        if not answer.ok:
            if claimed:
                await self._ownership.release(kind, wanted_id or "")
            await self._claims.release(others)
            return answer
        created = answer.decoded()
        if isinstance(created, dict) and created.get("id"):
            owner = Owner(node.node_id, call.app)
            if not await self._ownership.record_created(kind, str(created["id"]), owner):
                log.info("app %s's new %s %s ended before its node answered", call.app, kind, created["id"])
            if kind is Kind.BRIDGE:
                await self._tag_bridge(node, str(created["id"]), call.app)
                await self._placing.created(
                    str(created["id"]), call.query_value("type"), call.query_value("name")
                )
            log.info("app %s created %s %s on node %s", call.app, kind, created["id"], node.node_id)
        return answer

    async def record_sub_resource(self, kind: Kind, resource_id: str, owner: Owner) -> None:
        """A playback, recording or snoop channel started on its owner's node."""
        await self._ownership.record_created(kind, resource_id, owner)
        if kind is Kind.RECORDING:
            # The live recording becomes a stored one under the same name on the same node.
            await self._ownership.set(Kind.STORED, resource_id, owner)

    async def _claim(self, app: str, kind: Kind, wanted_id: str, node: Node) -> tuple[Node, bool]:
        """Claim ``wanted_id`` for ``app`` on ``node``: (the node to create on, whether we claimed it)."""
        winner = await self._claims.claim(app, kind, wanted_id, node.node_id)
        return self._sender.live_node(winner.node) or node, winner.node == node.node_id

    async def _related_node(self, call: AriCall) -> Node | None:
        for name in _RELATED_CHANNEL_PARAMS:
            channel_id = call.query_value(name)
            if channel_id:
                owner = await self._sender.locator.owner(Kind.CHANNEL, channel_id)
                if owner is not None and owner.app == call.app:
                    return self._sender.live_node(owner.node)
        return None

    async def _least_loaded(self) -> Node:
        try:
            return await placement.least_loaded(self._sender.nodes, self._ownership)
        except placement.NoNodeAvailable as exc:
            raise NoNode(str(exc)) from None

    async def _tag_bridge(self, node: Node, bridge_id: str, app: str) -> None:
        try:
            await tag_bridge(self._sender.nodes.client(node), bridge_id, app)
        except AriError as exc:
            log.warning("could not tag bridge %s with its app %s: %s", bridge_id, app, exc)

    def _with_app_variable(self, call: AriCall) -> AriCall:
        """Tag new channels with their app's name, so ownership can be rebuilt from Asterisk."""
        if call.plan.kind is not Kind.CHANNEL:
            return call
        if not any(p.location == "body" and p.name == "variables" for p in call.op.params):
            return call
        params, kind = call.params, media_type(call.content_type)
        if call.body and kind == JSON and params.json_body is None:
            return call  # malformed, or not an object: Asterisk will answer it itself
        body = dict(params.json_body or {})
        variables = body.get("variables")
        body["variables"] = {**(variables if isinstance(variables, dict) else {}), APP_VARIABLE: call.app}
        # A form body cannot travel with a JSON one: its fields go first in the query (the query wins).
        query = [*params.form, *params.query] if kind == FORM else call.query
        return replace(call, query=query, body=json.dumps(body).encode(), content_type=JSON)
