# kombu ships partial type hints: its constructors and methods are unannotated.
# mypy: disable-error-code="no-untyped-call"
"""The ownership queue in the real RabbitMQ: the broker hands it only the events the tracker handles."""

import uuid

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Producer

from ariscale_common.bus import OWNERSHIP_QUEUE, STASIS_EXCHANGE, STASIS_EXCHANGE_TYPE, stasis_routing_key
from gateway.events.bus_worker import ownership_queue


def test_only_tracked_event_types_reach_the_ownership_queue(events_amqp_url: str) -> None:
    with Connection(events_amqp_url) as connection:
        channel = connection.channel()
        exchange = Exchange(STASIS_EXCHANGE, type=STASIS_EXCHANGE_TYPE, durable=True)(channel)
        exchange.declare()
        # The real queue's bindings on a queue of the test's own (a running gateway may be
        # consuming the real one).
        bindings = ownership_queue(["StasisStart", "ChannelDestroyed"]).bindings
        queue = Queue(f"test-ownership-{uuid.uuid4().hex[:8]}", bindings=bindings, auto_delete=True)(channel)
        queue.declare()
        queue.purge()
        producer = Producer(channel, exchange=exchange)
        for event_type in ("StasisStart", "ChannelVarset", "ChannelStateChange", "ChannelDestroyed"):
            producer.publish(b"{}", routing_key=stasis_routing_key("conf", "n1", event_type))
        received = []
        while (message := queue.get(no_ack=True)) is not None:
            received.append(message.delivery_info["routing_key"].rsplit(".", 1)[1])
        queue.delete()
    assert received == ["StasisStart", "ChannelDestroyed"], f"{OWNERSHIP_QUEUE} got {received}"
