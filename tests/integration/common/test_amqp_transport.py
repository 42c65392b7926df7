"""Kombu over the read-ahead py-amqp transport, against the real broker: every message arrives
whole and in order (empty, small, larger than one read), in a fraction of py-amqp's own reads."""

import socket
import uuid
from typing import Any

import pytest
from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Consumer, Producer

from ariscale_common.amqp_transport import READ_AHEAD, ReadAheadTCPTransport, ReadAheadTransport

SIZES = [0, 1, 100, 2000, READ_AHEAD * 3 + 7]  # the last spans several reads


def bodies(count: int) -> list[bytes]:
    return [f"{i:06d}".encode() + b"x" * SIZES[i % len(SIZES)] for i in range(count)]


def counting_reads(connection: Connection) -> list[int]:
    """A counter of the socket reads the connection's transport makes from now on."""
    transport = connection.connection.transport
    assert isinstance(transport, ReadAheadTCPTransport)
    reads = [0]
    recv = transport._quick_recv

    def counted(size: int) -> bytes:
        reads[0] += 1
        data: bytes = recv(size)
        return data

    transport._quick_recv = counted
    return reads


@pytest.fixture
def queue(events_amqp_url: str) -> Queue:
    return Queue(f"read-ahead-{uuid.uuid4().hex[:8]}", Exchange("", type="direct"), auto_delete=True)


def test_messages_arrive_whole_and_in_order_with_few_reads(events_amqp_url: str, queue: Queue) -> None:
    sent = bodies(300)
    with Connection(events_amqp_url, transport=ReadAheadTransport) as connection:
        channel = connection.channel()
        bound = queue(channel)
        bound.declare()
        producer = Producer(channel)
        for body in sent:
            producer.publish(body, routing_key=queue.name, content_type="application/octet-stream")
        received: list[bytes] = []

        def on_message(message: Any) -> None:
            received.append(message.body)
            message.ack()

        reads = counting_reads(connection)
        with Consumer(channel, queues=[bound], on_message=on_message, prefetch_count=len(sent)):
            while len(received) < len(sent):
                connection.drain_events(timeout=10)
    assert received == sent
    # py-amqp alone: 3 reads per frame, 3 frames per message (more for the large ones).
    assert reads[0] <= len(sent) * 3, f"{reads[0]} reads for {len(sent)} messages"


def test_a_read_that_times_out_leaves_the_stream_intact(events_amqp_url: str, queue: Queue) -> None:
    with Connection(events_amqp_url, transport=ReadAheadTransport) as connection:
        channel = connection.channel()
        bound = queue(channel)
        bound.declare()
        received: list[bytes] = []

        def on_message(message: Any) -> None:
            received.append(message.body)
            message.ack()

        with Consumer(channel, queues=[bound], on_message=on_message):
            with pytest.raises(socket.timeout):
                connection.drain_events(timeout=0.05)  # nothing yet
            Producer(channel).publish(b"after", routing_key=queue.name)
            while not received:
                connection.drain_events(timeout=10)
    assert received == [b"after"]
