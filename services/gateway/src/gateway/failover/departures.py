"""The events a dead node can no longer send, written for it. Pure functions.

When a node dies its channels are gone, but Asterisk never says so: an app would keep members
in its bridge forever. Failover publishes, under the dead node's own routing keys, what the
node would have sent had its channels hung up: for each bridge member ``ChannelLeftBridge``,
then ``StasisEnd`` and ``ChannelDestroyed`` (Asterisk's order on a hang-up); for its other
channels ``StasisEnd`` and ``ChannelDestroyed``; for a bridge that died with it,
``BridgeDestroyed``. The snapshots are the node's own last ones (see :mod:`gateway.bridging.members`),
so the app sees the same ids and fields as ever. The cause is Q.850 38, "Network out of order":
the node is not there any more.
"""

from datetime import UTC, datetime
from typing import Any

from gateway.bridging.members import Member

Event = dict[str, Any]

CAUSE_NODE_DIED = 38  # Q.850 / AST_CAUSE_NETWORK_OUT_OF_ORDER
CAUSE_NODE_DIED_TEXT = "Network out of order"


def ari_timestamp(now: datetime | None = None) -> str:
    """Asterisk's format: ``2024-05-01T12:34:56.789+0000``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def member_departure(member: Member, gone: set[str], timestamp: str) -> list[Event]:
    """What a member's node would have said as the member hung up, in Asterisk's order.

    ``gone`` names every channel that went with the node (the members leaving the same bridge
    at once, the link leg's end): none of them is listed in the bridge snapshots of these events.
    """
    bridge = {**member.bridge, "channels": [c for c in member.bridge.get("channels", []) if c not in gone]}
    common = {"timestamp": timestamp, "application": member.app, "channel": member.channel}
    return [
        {"type": "ChannelLeftBridge", **common, "bridge": bridge},
        {"type": "StasisEnd", **common},
        {"type": "ChannelDestroyed", **common, "cause": CAUSE_NODE_DIED, "cause_txt": CAUSE_NODE_DIED_TEXT},
    ]


def channel_departure(app: str, channel_id: str, timestamp: str) -> list[Event]:
    """A channel of the dead node in no bridge: it ends as the app sees it. No snapshot of it
    was kept, so the channel carries its id and nothing the node did not tell us."""
    common = {"timestamp": timestamp, "application": app, "channel": {"id": channel_id, "state": "Down"}}
    return [
        {"type": "StasisEnd", **common},
        {"type": "ChannelDestroyed", **common, "cause": CAUSE_NODE_DIED, "cause_txt": CAUSE_NODE_DIED_TEXT},
    ]


def members_departure(members: list[Member], legs: set[str], timestamp: str) -> list[Event]:
    """``member_departure`` for every member that was in one bridge on the dead node."""
    gone = {m.channel_id for m in members} | legs
    return [event for member in members for event in member_departure(member, gone, timestamp)]


def bridge_destroyed(app: str, bridge_id: str, timestamp: str) -> Event:
    """The bridge died with its home and no member survived to carry it."""
    bridge = {"id": bridge_id, "technology": "simple_bridge", "bridge_type": "mixing", "channels": []}
    return {"type": "BridgeDestroyed", "timestamp": timestamp, "application": app, "bridge": bridge}
