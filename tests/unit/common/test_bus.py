import json

import pytest

from ariscale_common import bus


def test_routing_key_grammar() -> None:
    assert bus.stasis_routing_key("conf", "n1", "StasisStart") == "stasis.app.conf.n1.StasisStart"
    assert bus.parse_routing_key("stasis.app.conf.n1.StasisStart") == ("conf", "n1", "StasisStart")


def test_bindings_cover_the_keys_they_should() -> None:
    assert bus.app_binding("conf") == "stasis.app.conf.#"
    assert bus.app_node_binding("conf", "n2") == "stasis.app.conf.n2.*"
    assert "stasis.app.*.n2.StasisStart" in bus.ownership_bindings("n2")
    assert bus.ownership_queue_name("n2") == "ariscale.ownership.n2"


@pytest.mark.parametrize("bad", ["", "a.b", "a*", "#"])
def test_words_that_would_change_the_key_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        bus.stasis_routing_key(bad, "n1", "StasisStart")


def test_foreign_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        bus.parse_routing_key("other.app.conf.n1.X")


def test_a_message_of_several_events_unpacks_into_each_as_it_would_travel_alone() -> None:
    bodies = [b'{"type": "ChannelVarset"}', b'{"type":"StasisEnd"}', b'{"type": "ChannelDestroyed"}']
    body, lengths = bus.pack_events(bodies)
    headers = {
        "node_id": "n1", "app": "conf", "agent_run": "r1", "seq": 7, "event_type": "StasisEnd",
        "lengths": lengths, "event_types": ["ChannelVarset", "StasisEnd", "ChannelDestroyed"],
    }  # fmt: skip
    events = bus.unpack_events(body, headers)
    assert [e.body for e in events] == bodies
    assert [e.event_type for e in events] == ["ChannelVarset", "StasisEnd", "ChannelDestroyed"]
    assert [e.event_id for e in events] == ["n1.r1.7", "n1.r1.8", "n1.r1.9"]
    assert all("lengths" not in e.headers and e.headers["app"] == "conf" for e in events)
    # For a consumer that does not slice, the body is a JSON array of the events.
    assert [e["type"] for e in json.loads(body)] == ["ChannelVarset", "StasisEnd", "ChannelDestroyed"]


def test_a_message_of_one_event_is_that_event() -> None:
    headers = {"node_id": "n1", "agent_run": "r1", "seq": 3, "event_type": "StasisStart"}
    (event,) = bus.unpack_events(b'{"type": "StasisStart"}', headers)
    assert (event.body, event.event_type, event.event_id) == (
        b'{"type": "StasisStart"}',
        "StasisStart",
        "n1.r1.3",
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"lengths": [5, 5]},  # do not add up to the body
        {"lengths": [20, 0]},
        {"lengths": "20,1"},
        {"event_types": ["StasisEnd"]},  # one type for two events
        {"event_types": None},
    ],
)
def test_lengths_that_do_not_cut_the_body_into_its_events_are_refused(changes: dict[str, object]) -> None:
    body, lengths = bus.pack_events([b'{"type":"A"}', b'{"type":"B"}'])
    headers = {"seq": 1, "lengths": lengths, "event_types": ["A", "B"], **changes}
    with pytest.raises(ValueError, match="lengths"):
        bus.unpack_events(body, headers)


def test_a_message_s_key_names_the_first_type_that_changes_ownership_else_the_first() -> None:
    assert bus.message_type(["ChannelVarset", "StasisEnd", "ChannelDestroyed"]) == "StasisEnd"
    assert bus.message_type(["ChannelVarset", "ChannelStateChange"]) == "ChannelVarset"
