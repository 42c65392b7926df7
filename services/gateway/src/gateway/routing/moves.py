"""``POST /channels/{id}/move``: a channel goes to another app, and its ownership with it.

Which apps a channel may move to: the caller's own, or another app registered in the cluster and
enabled. Handing a call to another app is what a transfer to that app's number already does
(``continue`` into the dialplan); the caller then loses the channel (404 on it, as on any other
app's resource) and the new app gets it as its own call (StasisStart). Refused with 422: a name
that is no registered app (Asterisk answers 204 and then only an ``ApplicationMoveFailed`` event)
and the internal link app.

Asterisk answers the move at once and switches apps later, on the channel's own thread
(``stasis_app_control_move`` in res/stasis/control.c, the loop in res/res_stasis.c): the old app
gets StasisEnd, the new one StasisStart, each on its own websocket, so their order on the bus is
not guaranteed. The ownership entry therefore names the new app as soon as the node accepts the
move (the old app's StasisEnd no longer takes it away, :meth:`OwnershipStore.release_of_app`); an
``ApplicationMoveFailed`` gives the channel back to the old app (:mod:`gateway.events.tracking`),
though without the old app's subscription to the channel's events (see :meth:`ChannelMoves.moved`).
"""

import contextlib
from collections.abc import Callable, Mapping

from ariscale_common.ari import AriError
from ariscale_common.dialplan import LINK_APP
from ariscale_common.discovery import AppRecord
from gateway.exceptions import UnknownApplication
from gateway.nodes import Node, NodeClients
from gateway.ownership import Kind, Owner, OwnershipStore
from gateway.routing.messages import AriCall

MOVE = "move"
TARGET_PARAM = "app"


class ChannelMoves:
    def __init__(
        self, ownership: OwnershipStore, nodes: NodeClients, apps: Callable[[], Mapping[str, AppRecord]]
    ) -> None:
        self._ownership = ownership
        self._nodes = nodes
        self._apps = apps  # the registered apps, as last read from Consul

    def check(self, call: AriCall) -> None:
        check_target(call, self._apps())

    async def moved(self, call: AriCall, node: Node) -> None:
        """The node accepted the move: the channel is the target app's from now on."""
        target = call.query_value(TARGET_PARAM) or ""
        if target == call.app:
            return
        channel_id = call.path_params["channelId"]
        await self._ownership.set(Kind.CHANNEL, channel_id, Owner(node.node_id, target))
        # Asterisk counts the old app's own channel:<id> subscription apart from its Stasis one and
        # keeps it after the move: the old app would go on hearing a call no longer its. Dropping one
        # count now ends it; without one, the Stasis count goes a moment early (the app is giving
        # the call away) or the node answers "not subscribed".
        source = {"eventSource": f"channel:{channel_id}"}
        with contextlib.suppress(AriError):
            await self._nodes.client(node).delete(f"/applications/{call.app}/subscription", params=source)


def check_target(call: AriCall, apps: Mapping[str, AppRecord]) -> None:
    """422 unless the move's target is the caller's app or another registered, enabled app."""
    target = call.query_value(TARGET_PARAM) or ""
    if target == call.app:
        return
    record = apps.get(target)
    if target == LINK_APP or record is None or not record.enabled:
        raise UnknownApplication(f"app={target!r}: a channel can only move to a registered, enabled app")
