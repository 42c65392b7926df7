"""Every ARI event to RabbitMQ: a Kombu connection in its own thread, fed through an EventBuffer.

Kombu is synchronous, so it never runs on the event loop. The loop calls :meth:`Publisher.submit`
(non-blocking); the thread publishes what is buffered as soon as it is there to the durable topic
exchange ``ariscale.stasis`` — the events waiting together, consecutive ones of one app in one
message (:func:`node_agent.events.outgoing`) — and removes them from the buffer only once the
broker confirmed them. Confirms are asynchronous: the thread goes on publishing while earlier
messages wait for theirs (up to ``MAX_IN_FLIGHT``), so an event never waits for the confirm of an
earlier one (waiting for a batch's confirms before the next publish added the broker's fsync, a
few ms, to the events that came during it). While the broker is unreachable events pile up in
the bounded buffer, and everything unconfirmed is published again, in order, when the thread
reconnects (backoff capped at ``reconnect_max_s``).

Messages go out with the channel's own ``basic_publish`` (through Kombu's transport, so on the
wire they are what ``Producer.publish`` sends): the producer's per-message preparation was about
a third of the publishing time under load (py-spy), and none of it applies to an encoded body.
"""

import logging
import threading
import time
import uuid
from collections import deque
from typing import Any, NamedTuple

from amqp.exceptions import MessageNacked
from kombu.connection import Connection
from kombu.entity import Exchange
from pydantic import BaseModel

from ariscale_common import LinkState
from ariscale_common.amqp_transport import ReadAheadTransport
from ariscale_common.bus import STASIS_EXCHANGE, STASIS_EXCHANGE_TYPE, declare_ownership_queue
from ariscale_common.health import LinkReporter
from node_agent.call_log import log_call_step
from node_agent.event_buffer import EventBuffer
from node_agent.events import (
    CONTENT_TYPE,
    BusMessage,
    InvalidEvent,
    Outgoing,
    bus_message,
    outgoing,
    parse_event,
)
from node_agent.metrics import PUBLISH_CONFIRM_SECONDS

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S = 5.0
BATCH = 256  # events taken from the buffer at a time
MAX_IN_FLIGHT = 1024  # messages published and not confirmed yet
IDLE_POLL_S = 0.5
# While confirms are due the thread reads the broker's answers; it looks for new events at least
# this often (a new event waits at most this long, instead of for the earlier ones' confirms).
CONFIRM_POLL_S = 0.001
HEARTBEAT_S = 10
DROP_LOG_EVERY = 1000  # an overflowing buffer logs its first loss, then every thousandth


class EventStats(BaseModel):
    """What the publisher has done since the agent started (``/health``)."""

    agent_run: str
    received: int
    published: int
    messages: int  # the AMQP messages the published events went in
    buffered: int
    dropped: int
    buffer_capacity: int


class Publisher:
    def __init__(
        self,
        amqp_url: str,
        node_id: str,
        buffer: EventBuffer[BusMessage],
        report: LinkReporter,
        reconnect_max_s: float = 2.0,
    ) -> None:
        self.node_id = node_id
        self.agent_run = uuid.uuid4().hex[:12]
        self.published = 0
        self.messages = 0
        self._url = amqp_url
        self._buffer = buffer
        self._report = report
        self._reconnect_max_s = reconnect_max_s
        self._exchange = Exchange(STASIS_EXCHANGE, type=STASIS_EXCHANGE_TYPE, durable=True)
        self._seq = 0
        self._stopping = threading.Event()
        self._flush_deadline = 0.0
        self._thread = threading.Thread(target=self._run, name=f"amqp-publisher-{node_id}", daemon=True)

    # -- the event loop's side ----------------------------------------------------------------------

    def submit(self, ws_app: str, raw: str) -> None:
        """Queue one raw ARI event received on ``ws_app``'s websocket; never blocks."""
        self._seq += 1
        try:
            event = parse_event(raw)
            message = bus_message(raw, ws_app, self.node_id, self.agent_run, self._seq, event)
        except InvalidEvent as exc:
            self._seq -= 1
            log.warning("%s app %s: dropped a websocket message: %s", self.node_id, ws_app, exc)
            return
        log_call_step(message, event)
        evicted = self._buffer.put(message)
        dropped = self._buffer.dropped
        if evicted is not None and (dropped == 1 or dropped % DROP_LOG_EVERY == 0):
            log.warning(
                "%s: event buffer full (%d events): dropped the oldest, %s (seq %s); %d dropped so far",
                self.node_id, self._buffer.capacity, evicted.routing_key, evicted.headers["seq"], dropped,
            )  # fmt: skip

    def stats(self) -> EventStats:
        return EventStats(
            agent_run=self.agent_run,
            received=self._buffer.received,
            published=self.published,
            messages=self.messages,
            buffered=len(self._buffer),
            dropped=self._buffer.dropped,
            buffer_capacity=self._buffer.capacity,
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, flush_timeout: float = 5.0) -> None:
        """Blocking: give the thread ``flush_timeout`` seconds to publish what is buffered, then stop."""
        self._flush_deadline = time.monotonic() + flush_timeout
        self._stopping.set()
        self._buffer.wake()
        self._thread.join(flush_timeout + CONFIRM_TIMEOUT_S + 1)
        left = len(self._buffer)
        if left:
            log.warning("%s: stopped with %d events not published", self.node_id, left)

    # -- the publisher thread -----------------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.1
        while not self._done():
            self._report(LinkState.CONNECTING, "")
            try:
                with Connection(
                    self._url, heartbeat=HEARTBEAT_S, connect_timeout=2, transport=ReadAheadTransport
                ) as conn:
                    conn.ensure_connection(max_retries=1)
                    channel = conn.channel()
                    self._exchange.declare(channel=channel)
                    declare_ownership_queue(channel, self.node_id)
                    confirms = Confirms(channel)
                    self._report(LinkState.UP, "")
                    backoff = 0.1
                    self._pump(conn, channel, confirms)
            except Exception as exc:  # kombu/amqp raise many types (socket, AMQP, recoverable)
                detail = f"{type(exc).__name__}: {exc}"
                self._report(LinkState.DOWN, f"{detail}; {len(self._buffer)} events buffered")
                log.debug("%s: AMQP failure", self.node_id, exc_info=True)
                if self._stopping.wait(backoff):
                    if time.monotonic() >= self._flush_deadline:
                        return
                backoff = min(backoff * 2, self._reconnect_max_s)

    def _done(self) -> bool:
        return self._stopping.is_set() and (
            len(self._buffer) == 0 or time.monotonic() >= self._flush_deadline
        )

    def _pump(self, conn: Connection, channel: Any, confirms: "Confirms") -> None:
        self._buffer.rewind()  # a new connection: whatever was not confirmed goes (again), in order
        in_flight: deque[InFlight] = deque()
        while not self._done():
            room = MAX_IN_FLIGHT - len(in_flight)
            wait = 0.0 if in_flight else IDLE_POLL_S
            fresh = self._buffer.take_unsent(min(BATCH, room), wait) if room > 0 else []
            sent_at = time.monotonic()
            for message in outgoing(fresh):
                _publish(channel, message)
                in_flight.append(InFlight(confirms.published(), sent_at, message.events))
            if in_flight:
                confirms.read(conn, CONFIRM_POLL_S)
                self._release_confirmed(in_flight, confirms)
            elif not fresh:
                self._check_alive(conn)

    def _release_confirmed(self, in_flight: "deque[InFlight]", confirms: "Confirms") -> None:
        """Remove from the buffer what the broker confirmed, oldest first; raise on a nack or on a
        confirm overdue (the caller reconnects and publishes everything unconfirmed again)."""
        now = time.monotonic()
        while in_flight and confirms.confirmed(in_flight[0].tag):
            done = in_flight.popleft()
            confirms.forget(done.tag)
            # Reached only once the broker has them: now they may leave.
            for event in done.events:
                self._buffer.pop_if(event)
            self.published += len(done.events)
            self.messages += 1
            PUBLISH_CONFIRM_SECONDS.observe(now - done.sent_at)
        if confirms.nacked:
            raise MessageNacked(f"the broker refused a message (up to tag {confirms.last_tag})")
        if in_flight and now - in_flight[0].sent_at > CONFIRM_TIMEOUT_S:
            raise TimeoutError(f"no confirm for {len(in_flight)} message(s) in {CONFIRM_TIMEOUT_S} s")

    @staticmethod
    def _check_alive(conn: Connection) -> None:
        """While idle, notice a broker that went away (closed socket, missed heartbeats)."""
        conn.heartbeat_check()
        try:
            conn.drain_events(timeout=0.01)
        except TimeoutError:
            pass


class InFlight(NamedTuple):
    """A message published on the current channel, waiting for the broker's confirm."""

    tag: int
    sent_at: float
    events: list[BusMessage]


class Confirms:
    """Publisher confirms on one channel, by delivery tag: one ack may cover every tag up to its
    own (``multiple``), and the broker does not promise to confirm in order."""

    def __init__(self, channel: Any) -> None:
        channel.confirm_select()
        channel.events["basic_ack"].add(self._acked)
        channel.events["basic_nack"].add(self._nacked)
        self.last_tag = 0
        self._up_to = 0  # every tag up to this one is confirmed
        self._single: set[int] = set()  # tags above it confirmed one by one
        self.nacked = False

    def published(self) -> int:
        """The delivery tag of the message just published (the channel counts them from 1)."""
        self.last_tag += 1
        return self.last_tag

    def _acked(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._up_to = max(self._up_to, delivery_tag)
        else:
            self._single.add(delivery_tag)

    def _nacked(self, delivery_tag: int, multiple: bool) -> None:
        self.nacked = True

    def confirmed(self, tag: int) -> bool:
        return tag <= self._up_to or tag in self._single

    def forget(self, tag: int) -> None:
        self._single.discard(tag)

    @staticmethod
    def read(conn: Connection, timeout: float) -> None:
        """Handle what the broker sent (confirms among it), waiting up to ``timeout`` for it."""
        try:
            conn.drain_events(timeout=timeout)
        except TimeoutError:
            pass


def _publish(channel: Any, message: Outgoing) -> None:
    """One message, persistent, to the Stasis exchange (no confirm wait here: see :class:`Confirms`)."""
    prepared = channel.prepare_message(
        message.body,
        content_type=CONTENT_TYPE,
        content_encoding="utf-8",
        headers=message.headers,
        properties={"delivery_mode": 2, "message_id": message.message_id},
    )
    channel.basic_publish(prepared, exchange=STASIS_EXCHANGE, routing_key=message.routing_key)
