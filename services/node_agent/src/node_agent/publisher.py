"""Every ARI event to RabbitMQ: a Kombu connection in its own thread, fed through an EventBuffer.

Kombu is synchronous, so it never runs on the event loop. The loop calls :meth:`Publisher.submit`
(non-blocking); the thread publishes the buffer's head (up to ``BATCH`` events at a time) to the
durable topic exchange ``ariscale.stasis`` and removes them only once the broker confirmed them
all: one confirm wait per batch, not per event.
While the broker is unreachable events pile up in the bounded buffer and are flushed in order
when the thread reconnects (backoff capped at ``reconnect_max_s``).

Messages go out with the channel's own ``basic_publish`` (through Kombu's transport, so on the
wire they are what ``Producer.publish`` sends): the producer's per-message preparation was about
a third of the publishing time under load (py-spy), and none of it applies to an encoded body.
"""

import logging
import threading
import time
import uuid
from typing import Any

from amqp.exceptions import MessageNacked
from kombu.connection import Connection
from kombu.entity import Exchange
from pydantic import BaseModel

from ariscale_common import LinkState
from ariscale_common.bus import STASIS_EXCHANGE, STASIS_EXCHANGE_TYPE, declare_ownership_queue
from ariscale_common.health import LinkReporter
from node_agent.call_log import log_call_step
from node_agent.event_buffer import EventBuffer
from node_agent.events import CONTENT_TYPE, BusMessage, InvalidEvent, bus_message, parse_event
from node_agent.metrics import PUBLISH_CONFIRM_SECONDS

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S = 5.0
BATCH = 256  # events published before waiting for their confirms
IDLE_POLL_S = 0.5
HEARTBEAT_S = 10
DROP_LOG_EVERY = 1000  # an overflowing buffer logs its first loss, then every thousandth


class EventStats(BaseModel):
    """What the publisher has done since the agent started (``/health``)."""

    agent_run: str
    received: int
    published: int
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
                with Connection(self._url, heartbeat=HEARTBEAT_S, connect_timeout=2) as conn:
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
        while not self._done():
            batch = self._buffer.peek_many(BATCH, IDLE_POLL_S)
            if not batch:
                self._check_alive(conn)
                continue
            for message in batch:
                _publish(channel, message)
            started = time.perf_counter()
            confirms.wait(conn, len(batch), CONFIRM_TIMEOUT_S)
            PUBLISH_CONFIRM_SECONDS.observe(time.perf_counter() - started)
            # Reached only once the broker confirmed the whole batch: now it may leave.
            for message in batch:
                self._buffer.pop_if(message)
            self.published += len(batch)

    @staticmethod
    def _check_alive(conn: Connection) -> None:
        """While idle, notice a broker that went away (closed socket, missed heartbeats)."""
        conn.heartbeat_check()
        try:
            conn.drain_events(timeout=0.01)
        except TimeoutError:
            pass


class Confirms:
    """Publisher confirms on one channel, counted by delivery tag (the broker acks several at once)."""

    def __init__(self, channel: Any) -> None:
        channel.confirm_select()
        channel.events["basic_ack"].add(self._acked)
        channel.events["basic_nack"].add(self._nacked)
        self.sent = 0
        self.confirmed = 0
        self.nacked = False

    def _acked(self, delivery_tag: int, multiple: bool) -> None:
        self.confirmed = max(self.confirmed, delivery_tag)

    def _nacked(self, delivery_tag: int, multiple: bool) -> None:
        self.nacked = True

    def wait(self, conn: Connection, count: int, timeout: float) -> None:
        """Until the broker confirmed the ``count`` messages just published; raise if it did not.

        A nack or a timeout raises: the caller reconnects and publishes the batch again (at least
        once, never lost).
        """
        self.sent += count
        deadline = time.monotonic() + timeout
        while self.confirmed < self.sent:
            if self.nacked:
                raise MessageNacked(f"the broker refused a message (up to tag {self.sent})")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no confirm for {self.sent - self.confirmed} message(s) in {timeout} s")
            conn.drain_events(timeout=remaining)


def _publish(channel: Any, message: BusMessage) -> None:
    """One message, persistent, to the Stasis exchange (no confirm wait here: see :class:`Confirms`)."""
    prepared = channel.prepare_message(
        message.body,
        content_type=CONTENT_TYPE,
        content_encoding="utf-8",
        headers=message.headers,
        properties={"delivery_mode": 2, "message_id": message.message_id},
    )
    channel.basic_publish(prepared, exchange=STASIS_EXCHANGE, routing_key=message.routing_key)
