"""What one ARI event becomes on the Stasis bus: routing key, untouched body, headers.

The body is the websocket text exactly as Asterisk sent it. The routing key comes from
:func:`ariscale_common.bus.stasis_routing_key` with the event's ``application`` (falling back to
the app of the websocket it came on) and ``type``. The headers (``node_id``, ``app``,
``event_type``, ``agent_run``, ``seq``) are described in :mod:`ariscale_common.bus`; they let
consumers detect gaps and duplicates without parsing the body.
"""

import json
from dataclasses import dataclass
from typing import Any

from ariscale_common.bus import (
    HEADER_AGENT_RUN,
    HEADER_APP,
    HEADER_EVENT_TYPE,
    HEADER_NODE_ID,
    HEADER_SEQ,
    stasis_routing_key,
)

CONTENT_TYPE = "application/json"


class InvalidEvent(ValueError):
    """A websocket message that is not an ARI event (not JSON, or without a ``type``)."""


@dataclass(frozen=True, eq=False)
class BusMessage:
    routing_key: str
    body: bytes
    headers: dict[str, str | int]

    @property
    def message_id(self) -> str:
        h = self.headers
        return f"{h[HEADER_NODE_ID]}.{h[HEADER_AGENT_RUN]}.{h[HEADER_SEQ]}"


def parse_event(raw: str) -> dict[str, Any]:
    """The event in one websocket message; InvalidEvent if it is not one."""
    try:
        event = json.loads(raw)
    except ValueError as exc:
        raise InvalidEvent(f"not JSON: {raw[:200]!r}") from exc
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise InvalidEvent(f"no event type: {raw[:200]!r}")
    return event


def bus_message(
    raw: str, ws_app: str, node_id: str, agent_run: str, seq: int, event: dict[str, Any] | None = None
) -> BusMessage:
    """The message for one raw ARI event received on ``ws_app``'s websocket (``event``: the same
    text already parsed, so that it is parsed once)."""
    if event is None:
        event = parse_event(raw)
    app = event.get("application")
    app = app if isinstance(app, str) and app else ws_app
    event_type: str = event["type"]
    try:
        key = stasis_routing_key(app, node_id, event_type)
    except ValueError as exc:
        raise InvalidEvent(str(exc)) from exc
    headers: dict[str, str | int] = {
        HEADER_NODE_ID: node_id,
        HEADER_APP: app,
        HEADER_EVENT_TYPE: event_type,
        HEADER_AGENT_RUN: agent_run,
        HEADER_SEQ: seq,
    }
    return BusMessage(routing_key=key, body=raw.encode(), headers=headers)
