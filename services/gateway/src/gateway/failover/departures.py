"""The end events a node can no longer send, or sent while nobody listened, written for it. Pure functions.

When a node dies its channels are gone, but Asterisk never says so: an app would keep members
in its bridge forever. Failover publishes, under the dead node's own routing keys, what the
node would have sent had its channels hung up: for each bridge member ``ChannelLeftBridge``,
then ``StasisEnd`` and ``ChannelDestroyed`` (Asterisk's order on a hang-up); for its other
channels ``StasisEnd`` and ``ChannelDestroyed``; for a bridge that died with it,
``BridgeDestroyed``. The snapshots are the node's own last ones (see :mod:`gateway.bridging.members`),
so the app sees the same ids and fields as ever. The cause is Q.850 38, "Network out of order":
the node is not there any more.

A live node whose agent was down when a channel hung up (Asterisk does not replay events) gets
the same ``StasisEnd`` and ``ChannelDestroyed`` from the ownership audit, with cause 16, "Normal
Clearing": the node ended the channel, most likely a plain hang-up, and did not say why to anyone.
"""

from datetime import UTC, datetime
from typing import Any, NamedTuple

from gateway.bridging.members import Member

Event = dict[str, Any]


class Cause(NamedTuple):
    """A hang-up cause as ``ChannelDestroyed`` carries it: Q.850 code and Asterisk's text for it."""

    code: int
    text: str


NODE_DIED = Cause(38, "Network out of order")  # AST_CAUSE_NETWORK_OUT_OF_ORDER
ENDED_UNHEARD = Cause(16, "Normal Clearing")  # AST_CAUSE_NORMAL_CLEARING


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
        destroyed(common, NODE_DIED),
    ]


def channel_departure(app: str, channel_id: str, timestamp: str, cause: Cause = NODE_DIED) -> list[Event]:
    """A channel in no bridge (as far as we know) ends as the app sees it. No snapshot of it
    was kept, so the channel carries its id and nothing the node did not tell us."""
    common = {"timestamp": timestamp, "application": app, "channel": {"id": channel_id, "state": "Down"}}
    return [{"type": "StasisEnd", **common}, destroyed(common, cause)]


def destroyed(common: Event, cause: Cause) -> Event:
    """``ChannelDestroyed`` with ``common``'s timestamp, application and channel."""
    return {"type": "ChannelDestroyed", **common, "cause": cause.code, "cause_txt": cause.text}


def members_departure(members: list[Member], legs: set[str], timestamp: str) -> list[Event]:
    """``member_departure`` for every member that was in one bridge on the dead node."""
    gone = {m.channel_id for m in members} | legs
    return [event for member in members for event in member_departure(member, gone, timestamp)]


def bridge_destroyed(app: str, bridge_id: str, timestamp: str) -> Event:
    """The bridge died with its home and no member survived to carry it."""
    bridge = {"id": bridge_id, "technology": "simple_bridge", "bridge_type": "mixing", "channels": []}
    return {"type": "BridgeDestroyed", "timestamp": timestamp, "application": app, "bridge": bridge}
