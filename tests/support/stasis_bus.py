"""Tests' view of the Stasis bus: a queue bound on ``ariscale.stasis``, consumed in a thread.

Kombu is synchronous: the consumer runs in its own thread, survives broker restarts (it
reconnects), and acks each message only after recording it, so nothing is lost; a redelivery
shows up as a repeated (``agent_run``, ``seq``) header pair. A message of several events is
recorded as one :class:`BusEvent` per event, each with the headers and key it would have alone.
"""

import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue, binding
from kombu.message import Message

from ariscale_common.bus import (
    STASIS_EXCHANGE,
    STASIS_EXCHANGE_TYPE,
    parse_routing_key,
    stasis_routing_key,
    unpack_events,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BusEvent:
    routing_key: str
    headers: dict[str, Any]
    raw: bytes
    properties: dict[str, Any] = field(default_factory=dict)  # AMQP's: content type, delivery mode…

    @property
    def event(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.raw)
        return decoded

    @property
    def type(self) -> str:
        return str(self.event["type"])

    @property
    def node_id(self) -> str:
        return str(self.headers["node_id"])


def _key_of(message_key: str, event_type: str) -> str:
    """The key an event of a message of several would have had alone."""
    app, node, _ = parse_routing_key(message_key)
    return stasis_routing_key(app, node, event_type)


class BusTap:
    """Collects every message routed to ``bindings`` (topic patterns) in arrival order."""

    def __init__(self, amqp_url: str, bindings: list[str], queue: str | None = None, durable: bool = False):
        exchange = Exchange(STASIS_EXCHANGE, type=STASIS_EXCHANGE_TYPE, durable=True)
        self.queue = Queue(
            queue or f"test-tap-{uuid.uuid4().hex[:8]}",
            bindings=[binding(exchange, routing_key=key) for key in bindings],
            durable=durable,
            auto_delete=not durable,
        )
        self.amqp_url = amqp_url
        self.messages: list[BusEvent] = []
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="bus-tap", daemon=True)

    def events(self, event_type: str | None = None) -> list[BusEvent]:
        with self._lock:
            return [m for m in self.messages if event_type is None or m.type == event_type]

    def _record(self, body: Any, message: Message) -> None:
        key = message.delivery_info["routing_key"]
        properties = {
            **message.properties,
            "content_type": message.content_type,
            "content_encoding": message.content_encoding,
        }
        raw = message.body if isinstance(message.body, bytes) else str(message.body).encode()
        events = unpack_events(raw, dict(message.headers or {}))
        with self._lock:
            for event in events:
                own_key = key if len(events) == 1 else _key_of(key, str(event.event_type))
                self.messages.append(BusEvent(own_key, event.headers, event.body, properties))
        message.ack()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with Connection(self.amqp_url, connect_timeout=2) as conn:
                    with conn.Consumer(self.queue, callbacks=[self._record], accept=["json"]):
                        self.connected.set()
                        while not self._stop.is_set():
                            with contextlib.suppress(TimeoutError):
                                conn.drain_events(timeout=0.1)
            except Exception as exc:  # the broker went away: try again until stopped
                self.connected.clear()
                log.info("bus tap: %s: %s", type(exc).__name__, exc)
                self._stop.wait(0.2)

    @contextlib.contextmanager
    def running(self, connect_timeout: float = 10) -> Iterator["BusTap"]:
        self._thread.start()
        try:
            if not self.connected.wait(connect_timeout):
                raise AssertionError(f"bus tap could not consume from {self.amqp_url}")
            yield self
        finally:
            self._stop.set()
            self._thread.join(5)
