"""The loop's side of the publisher (no broker needed: its thread is not started here)."""

import json

from ariscale_common import LinkState
from node_agent.event_buffer import EventBuffer
from node_agent.events import BusMessage
from node_agent.publisher import Publisher


def event(n: int, kind: str = "ChannelVarset") -> str:
    return json.dumps({"type": kind, "application": "conf", "n": n})


def publisher(buffer: EventBuffer[BusMessage]) -> Publisher:
    def report(state: LinkState, detail: str) -> None:
        raise AssertionError("the thread is not running")

    return Publisher("amqp://guest:guest@127.0.0.1:1//", "n1", buffer, report)


def test_submitted_events_are_numbered_in_order_under_their_routing_key() -> None:
    buffer: EventBuffer[BusMessage] = EventBuffer(10)
    pub = publisher(buffer)
    pub.submit("conf", event(1, "StasisStart"))
    pub.submit("conf", event(2, "StasisEnd"))
    first = buffer.peek(0)
    assert first is not None and buffer.pop_if(first)
    second = buffer.peek(0)
    assert second is not None
    assert (first.routing_key, first.headers["seq"]) == ("stasis.app.conf.n1.StasisStart", 1)
    assert (second.routing_key, second.headers["seq"]) == ("stasis.app.conf.n1.StasisEnd", 2)
    assert first.headers["agent_run"] == second.headers["agent_run"] == pub.agent_run


def test_overflow_is_counted_in_the_stats() -> None:
    pub = publisher(EventBuffer(2))
    for n in range(5):
        pub.submit("conf", event(n))
    stats = pub.stats()
    assert (stats.received, stats.buffered, stats.dropped, stats.published) == (5, 2, 3, 0)
    assert stats.buffer_capacity == 2


def test_a_message_that_is_no_event_is_dropped_without_using_a_number() -> None:
    buffer: EventBuffer[BusMessage] = EventBuffer(10)
    pub = publisher(buffer)
    pub.submit("conf", "garbage")
    pub.submit("conf", event(1))
    head = buffer.peek(0)
    assert head is not None and head.headers["seq"] == 1
    assert pub.stats().received == 1
