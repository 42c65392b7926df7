"""The agent's publisher on a real RabbitMQ: events that wait together share messages, every event
arrives once, in order."""

import json
import time

from ariscale_common import LinkState
from ariscale_common.bus import app_node_binding
from node_agent.event_buffer import EventBuffer
from node_agent.events import BusMessage
from node_agent.publisher import BATCH, Publisher
from tests.support.stasis_bus import BusTap

EVENTS = 3 * BATCH + 17  # several whole batches and a partial one


def test_events_in_batches_are_all_published_once_and_in_order(events_amqp_url: str) -> None:
    states: list[LinkState] = []
    buffer: EventBuffer[BusMessage] = EventBuffer(10 * EVENTS)
    publisher = Publisher(events_amqp_url, "n9", buffer, lambda state, _: states.append(state))
    with BusTap(events_amqp_url, [app_node_binding("conf", "n9")]).running() as tap:
        for n in range(EVENTS):  # queued before the thread runs: the first batches are full
            publisher.submit("conf", json.dumps({"type": "ChannelVarset", "application": "conf", "n": n}))
        publisher.start()
        deadline = time.monotonic() + 30
        while (len(tap.events()) < EVENTS or publisher.published < EVENTS) and time.monotonic() < deadline:
            time.sleep(0.05)
        publisher.stop(flush_timeout=2)
        received = [event.event["n"] for event in tap.events()]
    assert received == list(range(EVENTS))
    first = tap.events()[0]  # the bus contract (ariscale_common.bus), as the gateway reads it
    assert first.routing_key == "stasis.app.conf.n9.ChannelVarset"
    assert {k: first.headers[k] for k in ("node_id", "app", "event_type", "seq")} == {
        "node_id": "n9", "app": "conf", "event_type": "ChannelVarset", "seq": 1,
    }  # fmt: skip
    assert first.properties["content_type"] == "application/json"
    assert first.properties["content_encoding"] == "utf-8"
    assert first.properties["delivery_mode"] == 2  # persistent
    assert first.properties["message_id"] == f"n9.{publisher.agent_run}.1"
    assert publisher.published == EVENTS
    # Waiting together, consecutive events of one app shared messages (up to 16 each).
    assert publisher.messages <= EVENTS // 10
    assert len(buffer) == 0  # confirmed, so removed
    assert LinkState.UP in states
