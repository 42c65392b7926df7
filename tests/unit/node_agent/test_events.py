import json

import pytest

from ariscale_common.bus import parse_routing_key, unpack_events
from node_agent.events import BusMessage, InvalidEvent, bus_message, outgoing

RAW = (
    '{"type":"StasisStart","timestamp":"2026-01-01T00:00:00.000+0000","args":[],'
    '"channel":{"id":"n1-1.0"},"asterisk_id":"02:00:00:00:00:01","application":"conf"}'
)


def test_routing_key_names_app_node_and_event_type() -> None:
    message = bus_message(RAW, "conf", "n1", "run1", 7)
    assert message.routing_key == "stasis.app.conf.n1.StasisStart"
    assert parse_routing_key(message.routing_key) == ("conf", "n1", "StasisStart")


def test_body_is_the_text_asterisk_sent_byte_for_byte() -> None:
    assert bus_message(RAW, "conf", "n1", "run1", 7).body == RAW.encode()


def test_headers_carry_sequence_and_run() -> None:
    message = bus_message(RAW, "conf", "n1", "run1", 7)
    assert message.headers == {
        "node_id": "n1",
        "app": "conf",
        "event_type": "StasisStart",
        "agent_run": "run1",
        "seq": 7,
    }
    assert message.message_id == "n1.run1.7"


def test_app_comes_from_the_event_not_the_websocket() -> None:
    assert bus_message(RAW, "other", "n1", "r", 1).routing_key == "stasis.app.conf.n1.StasisStart"


def test_websocket_app_is_the_fallback() -> None:
    raw = json.dumps({"type": "ApplicationReplaced"})
    assert bus_message(raw, "conf", "n2", "r", 1).routing_key == "stasis.app.conf.n2.ApplicationReplaced"


@pytest.mark.parametrize(
    "raw",
    ["not json", "[]", '{"application": "conf"}', '{"type": "Stasis.Start", "application": "conf"}'],
)
def test_what_is_not_an_event_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEvent):
        bus_message(raw, "conf", "n1", "r", 1)


def _numbered(*apps_and_types: tuple[str, str]) -> list[BusMessage]:
    return [
        bus_message(json.dumps({"type": t, "application": app}), app, "n1", "run1", seq)
        for seq, (app, t) in enumerate(apps_and_types, start=1)
    ]


def test_consecutive_events_of_one_app_leave_in_one_message() -> None:
    events = _numbered(("conf", "ChannelVarset"), ("conf", "StasisEnd"), ("conf", "ChannelDestroyed"))
    (message,) = outgoing(events)
    assert message.events == events
    assert message.routing_key == "stasis.app.conf.n1.StasisEnd"  # the type that changes ownership
    assert message.message_id == "n1.run1.1"
    assert message.headers["seq"] == 1
    assert message.headers["event_types"] == ["ChannelVarset", "StasisEnd", "ChannelDestroyed"]
    assert [json.loads(e.body) for e in unpack_events(message.body, message.headers)] == [
        json.loads(e.body) for e in events
    ]


def test_another_app_or_the_limit_starts_a_new_message() -> None:
    events = _numbered(
        ("a", "StasisStart"), ("a", "ChannelVarset"), ("b", "StasisStart"), ("a", "ChannelVarset")
    )
    assert [len(m.events) for m in outgoing(events)] == [2, 1, 1]
    assert [len(m.events) for m in outgoing(_numbered(*[("a", "ChannelVarset")] * 5), limit=2)] == [2, 2, 1]


def test_a_lone_event_leaves_as_it_came() -> None:
    (event,) = _numbered(("conf", "StasisStart"))
    (message,) = outgoing([event])
    assert (message.routing_key, message.body, message.headers) == (
        event.routing_key,
        event.body,
        event.headers,
    )
    assert "lengths" not in message.headers
