# kombu ships partial type hints: its constructors and methods are unannotated.
# mypy: disable-error-code="no-untyped-call"
"""A node's ownership queue in the real RabbitMQ: the broker hands it only that node's events of
the types the tracker handles."""

import uuid

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Producer

from ariscale_common.bus import STASIS_EXCHANGE, STASIS_EXCHANGE_TYPE, stasis_routing_key
from gateway.events.bus_worker import ownership_queue


def test_only_the_node_s_tracked_event_types_reach_its_ownership_queue(events_amqp_url: str) -> None:
    with Connection(events_amqp_url) as connection:
        channel = connection.channel()
        exchange = Exchange(STASIS_EXCHANGE, type=STASIS_EXCHANGE_TYPE, durable=True)(channel)
        exchange.declare()
        # The real queue's bindings on a queue of the test's own (a running gateway may be
        # consuming the real one).
        node = f"n{uuid.uuid4().hex[:6]}"
        bindings = ownership_queue(node).bindings
        queue = Queue(f"test-ownership-{node}", bindings=bindings, auto_delete=True)(channel)
        queue.declare()
        producer = Producer(channel, exchange=exchange)
        for sender in (node, f"{node}x"):
            for event_type in ("StasisStart", "ChannelVarset", "ChannelStateChange", "ChannelDestroyed"):
                producer.publish(b"{}", routing_key=stasis_routing_key("conf", sender, event_type))
        received = []
        while (message := queue.get(no_ack=True)) is not None:
            received.append(message.delivery_info["routing_key"].split(".", 3)[3])
        queue.delete()
    assert received == [f"{node}.StasisStart", f"{node}.ChannelDestroyed"]
