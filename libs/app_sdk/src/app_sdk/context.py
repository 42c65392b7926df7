"""One call as the application sees it."""

from dataclasses import dataclass, field
from typing import Any

Event = dict[str, Any]  # an ARI event (or resource) as the gateway sends it, decoded JSON


@dataclass
class CallContext:
    """The channel of one call, and whatever the app wants to keep for it (``state``)."""

    channel_id: str
    caller_number: str = ""
    caller_name: str = ""
    dialed: str = ""
    node: str = ""
    args: list[str] = field(default_factory=list)
    channel: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    ended: bool = False

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> "CallContext":
        channel = event.get("channel", {})
        caller = channel.get("caller", {})
        channel_id = str(channel.get("id", ""))
        return cls(
            channel_id=channel_id,
            caller_number=str(caller.get("number", "")),
            caller_name=str(caller.get("name", "")),
            dialed=str(channel.get("dialplan", {}).get("exten", "")),
            node=node_of(channel_id),
            args=list(event.get("args", [])),
            channel=channel,
        )


def node_of(channel_id: str) -> str:
    """The node a channel lives on: ids start with the node's systemname (``n1-1795680783.0``)."""
    return channel_id.split("-", 1)[0] if "-" in channel_id else ""
