"""Each device state change once, as from one Asterisk, while every node holds the subscription.

A ``Stasis:`` device state is set on every node at once (the gateway sends the PUT or DELETE to
all), so every node subscribed to it reports each change: the app hears it from one node only,
the first healthy one in id order (another takes over when it dies, already subscribed). Other
devices (an endpoint's, a queue member's) are each node's own: they are heard from every node.
"""

from collections.abc import Sequence
from typing import Any

from gateway.nodes import Node
from gateway.routing.references import STASIS_DEVICE


def heard_once(event: dict[str, Any], node: str | None, healthy: Sequence[Node]) -> bool:
    """False for a copy of a ``Stasis:`` device's change that another node reports to the app."""
    if event.get("type") != "DeviceStateChanged" or node is None or not healthy:
        return True
    name = str((event.get("device_state") or {}).get("name", ""))
    if not name.lower().startswith(STASIS_DEVICE):
        return True
    return node == min(n.node_id for n in healthy)
