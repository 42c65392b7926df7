"""Find a resource's owner: Redis first, and on a miss ask the nodes (Asterisk is the truth).

Which app a rebuilt resource belongs to comes from Asterisk too: a channel in Stasis names the app
it entered in its dialplan (``Stasis(<app>,…)``), and the app it is in now (after a move) lists it
among its ``channel_ids``; channels and bridges the gateway created carry the variable
``ARISCALE_APP``.
"""

import asyncio
import logging
from typing import Any

from ariscale_common.ari import AriClient, AriError
from ariscale_common.dialplan import LINK_APP
from gateway import metrics
from gateway.nodes import Node, NodeClients
from gateway.ownership import Kind, Owner, OwnershipStore

log = logging.getLogger(__name__)

APP_VARIABLE = "ARISCALE_APP"

_PROBE_PATHS = {
    Kind.CHANNEL: "/channels/{}",
    Kind.BRIDGE: "/bridges/{}",
    Kind.PLAYBACK: "/playbacks/{}",
    Kind.RECORDING: "/recordings/live/{}",
    Kind.STORED: "/recordings/stored/{}",
}


class Locator:
    def __init__(self, ownership: OwnershipStore, nodes: NodeClients) -> None:
        self._ownership = ownership
        self._nodes = nodes

    async def owner(self, kind: Kind, resource_id: str) -> Owner | None:
        """The owner, rebuilding the Redis entry from the nodes when it is missing."""
        known = await self._ownership.get(kind, resource_id)
        if known is not None:
            metrics.ownership_lookup("hit")
            return known
        found = await self._probe(kind, resource_id)
        metrics.ownership_lookup("rebuilt" if found is not None else "miss")
        if found is not None:
            await self._ownership.set(kind, resource_id, found)
            log.info("rebuilt ownership of %s %s: node %s app %s", kind, resource_id, found.node, found.app)
        return found

    async def exists(self, kind: Kind, resource_id: str, node_id: str) -> bool:
        """Whether ``node_id`` really holds the resource (an unreachable node holds nothing)."""
        node = self._nodes.node(node_id)
        if node is None or not node.healthy:
            return False
        try:
            await self._nodes.client(node).get(_PROBE_PATHS[kind].format(resource_id))
        except AriError:
            return False
        return True

    async def _probe(self, kind: Kind, resource_id: str) -> Owner | None:
        nodes = self._nodes.healthy()
        # Channel ids start with the owning node's systemname: ask that node first.
        nodes.sort(key=lambda n: not resource_id.startswith(f"{n.node_id}-"))
        answers = await asyncio.gather(*(self._ask(node, kind, resource_id) for node in nodes))
        return next((owner for owner in answers if owner is not None), None)

    async def _ask(self, node: Node, kind: Kind, resource_id: str) -> Owner | None:
        client = self._nodes.client(node)
        try:
            resource = await client.get(_PROBE_PATHS[kind].format(resource_id))
        except AriError:
            return None
        app = await self._app_of(client, kind, resource_id, resource)
        # Link legs are the gateway's own machinery, no app's resource: never recorded, never shown.
        return Owner(node=node.node_id, app=app) if app and app != LINK_APP else None

    async def _app_of(self, client: AriClient, kind: Kind, resource_id: str, resource: Any) -> str | None:
        if kind is Kind.CHANNEL:
            dialplan = resource.get("dialplan", {}) if isinstance(resource, dict) else {}
            if dialplan.get("app_name") == "Stasis" and dialplan.get("app_data"):
                return await _stasis_app(client, resource_id, str(dialplan["app_data"]).split(",")[0])
            return await _variable(client, f"/channels/{resource_id}/variable")
        if kind is Kind.BRIDGE:
            return await _variable(client, f"/bridges/{resource_id}/variable")
        if kind is Kind.PLAYBACK and isinstance(resource, dict):
            return await self._app_of_target(str(resource.get("target_uri", "")))
        if kind is Kind.RECORDING and isinstance(resource, dict):
            return await self._app_of_target(str(resource.get("target_uri", "")))
        return None  # stored recordings carry no app: only the gateway's own record knows

    async def _app_of_target(self, target_uri: str) -> str | None:
        """Playbacks and recordings belong to the app of the channel or bridge they run on."""
        scheme, _, target = target_uri.partition(":")
        kinds = {"channel": Kind.CHANNEL, "bridge": Kind.BRIDGE}
        if scheme not in kinds or not target:
            return None
        owner = await self.owner(kinds[scheme], target)
        return owner.app if owner else None


async def tag_bridge(client: AriClient, bridge_id: str, app: str) -> None:
    """Bridges carry their app's name too (POST /bridges takes variables in another shape)."""
    await client.post(f"/bridges/{bridge_id}/variable", params={"variable": APP_VARIABLE, "value": app})


async def _stasis_app(client: AriClient, channel_id: str, entered: str) -> str:
    """The app a channel is in: the one it entered, unless it moved on (POST /channels/{id}/move
    leaves the dialplan as it was; the app it moved to subscribes to it)."""
    try:
        first = await client.get(f"/applications/{entered}")
        if channel_id in _channel_ids(first):
            return entered
        listed = await client.get("/applications")
    except AriError:
        return entered
    apps = listed if isinstance(listed, list) else []
    found = [str(a.get("name")) for a in apps if isinstance(a, dict) and channel_id in _channel_ids(a)]
    return next((a for a in found if a not in (entered, LINK_APP)), entered)


def _channel_ids(application: Any) -> list[str]:
    return application.get("channel_ids", []) if isinstance(application, dict) else []


async def _variable(client: AriClient, path: str) -> str | None:
    try:
        answer = await client.get(path, params={"variable": APP_VARIABLE})
    except AriError:
        return None
    value = answer.get("value") if isinstance(answer, dict) else None
    return str(value) if value else None
