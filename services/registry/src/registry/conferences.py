"""Conferences as the nodes hold them: an app's bridge, its members on every node, its link legs.

Pure functions over what each node's ARI lists (Asterisk is the truth). A bridge ``B`` lives on
its home node; members on another node X sit in X's local bridge ``ariscale-link-B`` together
with the X end of a link leg, whose home end (``ariscale-leg-…``) sits in ``B``. Both ends of
one leg share their SIP Call-ID (ARI's ``protocol_id``).
"""

from collections import defaultdict
from typing import Any

from ariscale_common.dialplan import LEG_CHANNEL_PREFIX, LINK_APP, LINK_EXTEN_PREFIX, LOCAL_BRIDGE_PREFIX
from registry.node_ari import NodeContents
from registry.schemas import ConferenceView, LinkLegView, MemberView

Channel = dict[str, Any]


def stasis_app(channel: Channel) -> str | None:
    """The app a channel is in (``Stasis(<app>,…)`` in its dialplan), if any."""
    dialplan = channel.get("dialplan") or {}
    if dialplan.get("app_name") == "Stasis" and dialplan.get("app_data"):
        return str(dialplan["app_data"]).split(",")[0]
    return None


def is_link_leg(channel: Channel) -> bool:
    """Either end of a link leg: ours by id on the home node, the dialed ``link-…`` on the other."""
    if str(channel.get("id", "")).startswith(LEG_CHANNEL_PREFIX):
        return True
    exten = str((channel.get("dialplan") or {}).get("exten", ""))
    return exten.startswith(LINK_EXTEN_PREFIX) or stasis_app(channel) == LINK_APP


def calls_per_app(contents: dict[str, NodeContents]) -> dict[str, int]:
    """Each app's channels in Stasis on every node (link legs are nobody's calls)."""
    calls: dict[str, int] = defaultdict(int)
    for node in contents.values():
        for channel in node.channels:
            app = stasis_app(channel)
            if app and not is_link_leg(channel):
                calls[app] += 1
    return dict(calls)


def conferences(contents: dict[str, NodeContents]) -> list[ConferenceView]:
    """Every app bridge of the cluster with its members and link legs, sorted by id."""
    channels = {c["id"]: (node, c) for node, nc in contents.items() for c in nc.channels}
    homes: dict[str, tuple[str, dict[str, Any]]] = {}
    locals_: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for node, nc in contents.items():
        for bridge in nc.bridges:
            bridge_id = str(bridge["id"])
            if bridge_id.startswith(LOCAL_BRIDGE_PREFIX):
                locals_[bridge_id[len(LOCAL_BRIDGE_PREFIX) :]].append((node, bridge))
            else:
                homes[bridge_id] = (node, bridge)
    return [
        _conference(bridge_id, home, bridge, locals_.get(bridge_id, []), channels)
        for bridge_id, (home, bridge) in sorted(homes.items())
    ]


def _conference(
    bridge_id: str,
    home: str,
    bridge: dict[str, Any],
    local_bridges: list[tuple[str, dict[str, Any]]],
    channels: dict[str, tuple[str, Channel]],
) -> ConferenceView:
    members: list[MemberView] = []
    home_legs: dict[str, str] = {}  # protocol id -> home end
    remote_legs: dict[str, tuple[str, str]] = {}  # protocol id -> (node, remote end)
    for node, held in [(home, bridge), *local_bridges]:
        for channel_id in held.get("channels", []):
            found = channels.get(channel_id)
            channel: Channel = found[1] if found else {"id": channel_id}
            if is_link_leg(channel):
                call_id = str(channel.get("protocol_id") or channel_id)
                if node == home:
                    home_legs[call_id] = channel_id
                else:
                    remote_legs[call_id] = (node, channel_id)
            else:
                caller = str((channel.get("caller") or {}).get("number") or "")
                members.append(
                    MemberView(channel_id=channel_id, node=node, caller=caller, app=stasis_app(channel))
                )
    legs = [
        LinkLegView(node=node, home_leg=home_legs.pop(call_id, None), remote_leg=remote)
        for call_id, (node, remote) in sorted(remote_legs.items(), key=lambda kv: kv[1])
    ]
    legs += [LinkLegView(node="?", home_leg=leg, remote_leg=None) for leg in home_legs.values()]
    app = next((m.app for m in members if m.app), None)
    return ConferenceView(
        id=bridge_id,
        app=app,
        home=home,
        nodes=sorted({m.node for m in members}),
        members=sorted(members, key=lambda m: (m.node, m.channel_id)),
        link_legs=legs,
    )
