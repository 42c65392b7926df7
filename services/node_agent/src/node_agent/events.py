"""What one ARI event becomes on the Stasis bus: routing key, untouched body, headers.

The body is the websocket text exactly as Asterisk sent it. The routing key comes from
:func:`ariscale_common.bus.stasis_routing_key` with the event's ``application`` (falling back to
the app of the websocket it came on) and ``type``. Headers let consumers detect gaps and
duplicates without parsing the body:

* ``node_id``, ``app``, ``event_type``: the routing key's words;
* ``agent_run``: random id of this agent process; ``seq``: 1, 2, 3 … per ``agent_run``, in the
  order the agent received the events. Delivery is at least once: after a broker failure the
  head event may arrive twice (same ``seq``); a missing ``seq`` means the buffer overflowed.
"""

import json
from dataclasses import dataclass

from ariscale_common.bus import stasis_routing_key

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
        return f"{self.headers['node_id']}.{self.headers['agent_run']}.{self.headers['seq']}"


def bus_message(raw: str, ws_app: str, node_id: str, agent_run: str, seq: int) -> BusMessage:
    """The message for one raw ARI event received on ``ws_app``'s websocket."""
    try:
        event = json.loads(raw)
    except ValueError as exc:
        raise InvalidEvent(f"not JSON: {raw[:200]!r}") from exc
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise InvalidEvent(f"no event type: {raw[:200]!r}")
    app = event.get("application")
    app = app if isinstance(app, str) and app else ws_app
    event_type: str = event["type"]
    try:
        key = stasis_routing_key(app, node_id, event_type)
    except ValueError as exc:
        raise InvalidEvent(str(exc)) from exc
    headers: dict[str, str | int] = {
        "node_id": node_id,
        "app": app,
        "event_type": event_type,
        "agent_run": agent_run,
        "seq": seq,
    }
    return BusMessage(routing_key=key, body=raw.encode(), headers=headers)
