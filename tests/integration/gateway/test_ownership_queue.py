# kombu ships partial type hints: its constructors and methods are unannotated.
# mypy: disable-error-code="no-untyped-call"
"""A node's ownership queue in the real RabbitMQ, declared as its agent and the gateways do: the
broker hands it only that node's events of the types the tracker handles."""

import json
import uuid

from kombu.connection import Connection
from kombu.entity import Exchange
from kombu.messaging import Producer

from ariscale_common.bus import (
    STASIS_EXCHANGE,
    STASIS_EXCHANGE_TYPE,
    declare_ownership_queue,
    ownership_queue_name,
    stasis_routing_key,
    unpack_events,
)
from node_agent.events import bus_message, outgoing


def test_only_the_node_s_tracked_event_types_reach_its_ownership_queue(events_amqp_url: str) -> None:
    node = f"n{uuid.uuid4().hex[:6]}"  # a node of the test's own: no gateway consumes its queue
    with Connection(events_amqp_url) as connection:
        channel = connection.channel()
        exchange = Exchange(STASIS_EXCHANGE, type=STASIS_EXCHANGE_TYPE, durable=True)(channel)
        exchange.declare()
        declare_ownership_queue(channel, node)
        declare_ownership_queue(channel, node)  # again, as every gateway does: the same queue
        producer = Producer(channel, exchange=exchange)
        for sender in (node, f"{node}x"):
            for event_type in ("StasisStart", "ChannelVarset", "ChannelStateChange", "ChannelDestroyed"):
                producer.publish(b"{}", routing_key=stasis_routing_key("conf", sender, event_type))
        received = []
        while (message := channel.basic_get(ownership_queue_name(node), no_ack=True)) is not None:
            received.append(message.delivery_info["routing_key"].split(".", 3)[3])
        channel.queue_delete(ownership_queue_name(node))
    assert received == [f"{node}.StasisStart", f"{node}.ChannelDestroyed"]


def test_a_message_of_several_events_reaches_it_when_one_of_them_changes_ownership(
    events_amqp_url: str,
) -> None:
    node = f"n{uuid.uuid4().hex[:6]}"
    bursts = [["ChannelVarset", "StasisEnd", "ChannelDestroyed"], ["ChannelVarset", "ChannelStateChange"]]
    with Connection(events_amqp_url) as connection:
        channel = connection.channel()
        exchange = Exchange(STASIS_EXCHANGE, type=STASIS_EXCHANGE_TYPE, durable=True)(channel)
        exchange.declare()
        declare_ownership_queue(channel, node)
        producer = Producer(channel, exchange=exchange)
        for seq, types in enumerate(bursts, start=1):
            events = [
                bus_message(json.dumps({"type": t}), "conf", node, "run", seq * 10 + i)
                for i, t in enumerate(types)
            ]
            (message,) = outgoing(events)  # as the node's agent sends a burst
            producer.publish(message.body, routing_key=message.routing_key, headers=message.headers)
        received = []
        while (got := channel.basic_get(ownership_queue_name(node), no_ack=True)) is not None:
            received.append([e.event_type for e in unpack_events(got.body, got.headers)])
        channel.queue_delete(ownership_queue_name(node))
    assert received == [bursts[0]]
