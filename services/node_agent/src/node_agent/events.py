"""What one ARI event becomes on the Stasis bus: routing key, untouched body, headers.

The body is the websocket text exactly as Asterisk sent it. The routing key comes from
:func:`ariscale_common.bus.stasis_routing_key` with the event's ``application`` (falling back to
the app of the websocket it came on) and ``type``. The headers (``node_id``, ``app``,
``event_type``, ``agent_run``, ``seq``) are described in :mod:`ariscale_common.bus`; they let
consumers detect gaps and duplicates without parsing the body. Consecutive events of one app
that are waiting together leave in one message (:func:`outgoing`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ariscale_common import fast_json
from ariscale_common.bus import (
    HEADER_AGENT_RUN,
    HEADER_APP,
    HEADER_EVENT_TYPE,
    HEADER_EVENT_TYPES,
    HEADER_LENGTHS,
    HEADER_NODE_ID,
    HEADER_SEQ,
    MAX_EVENTS_PER_MESSAGE,
    message_type,
    pack_events,
    stasis_routing_key,
)

CONTENT_TYPE = "application/json"


class InvalidEvent(ValueError):
    """A websocket message that is not an ARI event (not JSON, or without a ``type``)."""


@dataclass(frozen=True, eq=False)
class BusMessage:
    """One event as it goes on the bus."""

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
        event = fast_json.loads(raw)
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


MAX_MESSAGE_BYTES = 256 * 1024  # a run of events is cut before it grows past this


@dataclass(frozen=True, eq=False)
class Outgoing:
    """One AMQP message: one event, or a run of consecutive events of one app."""

    events: list[BusMessage]
    routing_key: str
    body: bytes
    headers: dict[str, Any]

    @property
    def message_id(self) -> str:
        return self.events[0].message_id


def outgoing(messages: Sequence[BusMessage], limit: int = MAX_EVENTS_PER_MESSAGE) -> list[Outgoing]:
    """The messages to publish for these events, in order: consecutive events of one app share
    one (at most ``limit`` events, about ``MAX_MESSAGE_BYTES``)."""
    runs: list[list[BusMessage]] = []
    size = 0
    for message in messages:
        run = runs[-1] if runs else None
        if (
            run is None
            or len(run) >= limit
            or size + len(message.body) > MAX_MESSAGE_BYTES
            or run[0].headers[HEADER_APP] != message.headers[HEADER_APP]
        ):
            runs.append([message])
            size = len(message.body)
        else:
            run.append(message)
            size += len(message.body)
    return [_message_of(run) for run in runs]


def _message_of(run: list[BusMessage]) -> Outgoing:
    first = run[0]
    if len(run) == 1:
        return Outgoing(run, first.routing_key, first.body, dict(first.headers))
    types = [str(m.headers[HEADER_EVENT_TYPE]) for m in run]
    event_type = message_type(types)
    body, lengths = pack_events([m.body for m in run])
    headers: dict[str, Any] = {
        **first.headers,
        HEADER_EVENT_TYPE: event_type,
        HEADER_LENGTHS: lengths,
        HEADER_EVENT_TYPES: types,
    }
    key = stasis_routing_key(str(first.headers[HEADER_APP]), str(first.headers[HEADER_NODE_ID]), event_type)
    return Outgoing(run, key, body, headers)
