import json

import pytest

from ariscale_common.bus import parse_routing_key
from node_agent.events import InvalidEvent, bus_message

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
