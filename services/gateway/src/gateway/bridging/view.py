"""What the cross-node machinery looks like to an app: nothing. Pure functions over ARI events.

A bridge ``B`` homed on node A with members on node X is carried to X by one *link leg*: a SIP
call A → X (both ends in the internal ``LINK_APP``), whose X end sits in X's local bridge
``ariscale-link-B`` with all of B's members on X. Apps must never see legs or local bridges:
events about a leg are dropped, and a member entering/leaving a local bridge is reported as
entering/leaving ``B`` itself.
"""

from collections.abc import Collection
from typing import Any

from ariscale_common.dialplan import CLUSTER_ENDPOINT, LEG_CHANNEL_PREFIX, LINK_APP, LOCAL_BRIDGE_PREFIX

MEMBERSHIP_EVENTS = {"ChannelEnteredBridge", "ChannelLeftBridge"}
# Link legs are calls on the inter-node endpoint: "PJSIP/cluster-00000001" at either end.
LEG_NAME_PREFIX = f"PJSIP/{CLUSTER_ENDPOINT}-"


def local_bridge_id(bridge_id: str) -> str:
    """The id of ``bridge_id``'s local bridge on a member node."""
    return f"{LOCAL_BRIDGE_PREFIX}{bridge_id}"


def app_bridge_id(local_id: str) -> str | None:
    """The app's bridge a local bridge stands for, or None if ``local_id`` is not one."""
    return local_id[len(LOCAL_BRIDGE_PREFIX) :] if local_id.startswith(LOCAL_BRIDGE_PREFIX) else None


def is_leg(channel: dict[str, Any]) -> bool:
    """A link leg, at either end: created by us on the home node, or answered into LINK_APP."""
    if str(channel.get("id", "")).startswith(LEG_CHANNEL_PREFIX):
        return True
    app_data = str((channel.get("dialplan") or {}).get("app_data", ""))
    return app_data == LINK_APP or app_data.startswith(f"{LINK_APP},")


def app_view(event: dict[str, Any], legs: Collection[str] = ()) -> dict[str, Any] | None:
    """The event as the app must see it, or None when it is only about link machinery.

    ``legs`` names the remote ends of link legs (their ids are Asterisk's, not ours) so they can
    be taken out of bridge member lists too.
    """
    channel = event.get("channel")
    if isinstance(channel, dict) and is_leg(channel):
        return None
    if event.get("type") == "ChannelVarset" and event.get("variable") == "BRIDGEPEER":
        return _without_leg_peers(event)
    bridge = event.get("bridge")
    if not isinstance(bridge, dict):
        return event
    app_bridge = app_bridge_id(str(bridge.get("id", "")))
    if app_bridge is not None and event.get("type") not in MEMBERSHIP_EVENTS:
        return None  # the local bridge's own life (created, destroyed, …) is not the app's business
    channels = bridge.get("channels")
    members = (
        [c for c in channels if not _is_leg_id(str(c), legs)] if isinstance(channels, list) else channels
    )
    if app_bridge is None and members == channels:
        return event
    return {**event, "bridge": {**bridge, "id": app_bridge or bridge["id"], "channels": members}}


def _is_leg_id(channel_id: str, legs: Collection[str]) -> bool:
    return channel_id.startswith(LEG_CHANNEL_PREFIX) or channel_id in legs


def _without_leg_peers(event: dict[str, Any]) -> dict[str, Any] | None:
    """BRIDGEPEER names the member's bridge peers: a link leg is nobody's peer for the app."""
    peers = [p for p in str(event.get("value", "")).split(",") if p]
    kept = [p for p in peers if not p.startswith(LEG_NAME_PREFIX)]
    if kept == peers:
        return event
    return {**event, "value": ",".join(kept)} if kept else None
