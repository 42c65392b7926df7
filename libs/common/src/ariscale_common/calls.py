"""Which call an ARI event belongs to: the one rule the gateway and the app SDK both key events by.

:func:`call_of` answers ``channel:<id>``, ``bridge:<id>`` or None:

* its channel: ``channel``, else Dial's ``caller`` then ``peer``, else the ``target_uri`` of a
  playback or recording (``channel:<id>``);
* else its bridge: a playback's or recording's ``bridge:<id>`` target, or ``bridge``; bridge-only
  events (``BridgeCreated``, ``BridgeDestroyed``…) make a call of their own, one per bridge;
* else None (``DeviceStateChanged``, ``EndpointStateChange``…): the app's, no call's.
"""

from typing import Any

CHANNEL = "channel"
BRIDGE = "bridge"
# A call's last events, in whatever order Asterisk sends them: after one, the call may be forgotten.
LAST_EVENTS = frozenset({"StasisEnd", "ChannelDestroyed", "BridgeDestroyed"})


def call_of(event: dict[str, Any]) -> str | None:
    """``channel:<id>``, ``bridge:<id>`` or None: what keeps this event with its call."""
    for field in ("channel", "caller", "peer"):
        channel = event.get(field)
        if isinstance(channel, dict) and channel.get("id"):
            return f"{CHANNEL}:{channel['id']}"
    for field in ("playback", "recording"):
        target = (event.get(field) or {}).get("target_uri", "")
        kind, _, target_id = str(target).partition(":")
        if kind in (CHANNEL, BRIDGE) and target_id:
            return f"{kind}:{target_id}"
    bridge = event.get("bridge")
    if isinstance(bridge, dict) and bridge.get("id"):
        return f"{BRIDGE}:{bridge['id']}"
    return None


def channel_of(call: str | None) -> str | None:
    """The channel id of a :func:`call_of` key, or None when the call is a bridge's or nobody's."""
    kind, _, channel_id = (call or "").partition(":")
    return channel_id if kind == CHANNEL else None
