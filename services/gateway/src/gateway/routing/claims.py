"""Every id an app names for something it creates is claimed for that app before a node sees it.

Asterisk takes ids from the request for new channels (``channelId``, ``otherChannelId``,
``snoopId``), playbacks (``playbackId``), bridges (``bridgeId``) and recordings (``name``), and
different nodes happily hold the same id twice. Without a claim an app could create, on another
node, a copy of another app's id and take its ownership entry over (shadowing it), or record over
another app's stored file (``ifExists=overwrite``/``append``). A claim is refused (409) when the id
is another app's, wherever it lives; Redis is only a cache, so a miss is checked on the nodes.
"""

import re

from gateway.exceptions import IdInUse, InvalidRecordingName
from gateway.locate import Locator
from gateway.nodes import NodeClients
from gateway.ownership import Kind, Owner, OwnershipStore
from gateway.routing.messages import AriCall
from gateway.routing.plans import Policy

# Parameters naming a new resource, when they are not the resource the request is routed on.
NEW_ID_PARAMS = {
    "channelId": Kind.CHANNEL,
    "otherChannelId": Kind.CHANNEL,
    "snoopId": Kind.CHANNEL,
    "playbackId": Kind.PLAYBACK,
    "bridgeId": Kind.BRIDGE,
}
# No '/': a name is one file of the app's, never a path into someone else's directory.
_RECORDING_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


def new_ids(call: AriCall) -> list[tuple[Kind, str]]:
    """The ids ``call`` would create (pure: the plan and the request's parameters)."""
    routed = call.plan.id_param  # routed on (OWNER) or claimed by Creation, which picks its node
    found = []
    for param in call.op.params:
        kind = NEW_ID_PARAMS.get(param.name)
        if kind is None or param.name == routed:
            continue
        if call.plan.policy is not Policy.CREATE and call.plan.creates is None:
            continue  # an existing resource named as an argument, not a new one
        value = call.path_params.get(param.name) or call.query_value(param.name)
        if value:
            found.append((kind, value))
    if call.op.nickname == "record":
        name = call.query_value("name") or ""
        if not _RECORDING_NAME.fullmatch(name):
            raise InvalidRecordingName(f"recording name {name!r}: letters, digits, '_', '.' and '-'")
        found += [(Kind.RECORDING, name), (Kind.STORED, name)]
    return found


class IdClaims:
    def __init__(self, ownership: OwnershipStore, locator: Locator, nodes: NodeClients) -> None:
        self._ownership = ownership
        self._locator = locator
        self._nodes = nodes

    async def claim(self, app: str, kind: Kind, resource_id: str, node_id: str) -> Owner:
        """Claim ``resource_id`` for ``app`` on ``node_id``; the owner it has now (the app's own)."""
        current = await self._locator.owner(kind, resource_id)
        if current is not None and current.app != app:
            if await self._locator.exists(kind, resource_id, current.node):
                raise IdInUse(f"{kind} id {resource_id!r} is in use by another application")
            await self._ownership.release(kind, resource_id)  # left over from a resource now gone
        elif current is None and kind is Kind.STORED and await self._stored_anywhere(resource_id):
            # A stored file nobody has claimed (its entry was lost): nobody may write over it.
            raise IdInUse(f"recording {resource_id!r} exists and is not known to be this app's")
        winner = await self._ownership.claim(kind, resource_id, Owner(node_id, app))
        if winner.app != app:
            raise IdInUse(f"{kind} id {resource_id!r} is in use by another application")
        return winner

    async def claim_new_ids(self, call: AriCall, node_id: str) -> list[tuple[Kind, str]]:
        """Claim every id ``call`` creates; the ones newly claimed (to release if the node refuses)."""
        claimed: list[tuple[Kind, str]] = []
        try:
            for kind, resource_id in new_ids(call):
                known = await self._ownership.get(kind, resource_id)
                await self.claim(call.app, kind, resource_id, node_id)
                if known is None:
                    claimed.append((kind, resource_id))
        except Exception:
            await self.release(claimed)
            raise
        return claimed

    async def release(self, claimed: list[tuple[Kind, str]]) -> None:
        for kind, resource_id in claimed:
            await self._ownership.release(kind, resource_id)

    async def _stored_anywhere(self, name: str) -> bool:
        for node in self._nodes.healthy():
            if await self._locator.exists(Kind.STORED, name, node.node_id):
                return True
        return False
