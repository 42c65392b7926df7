# kombu ships partial type hints: its constructors and methods are unannotated.
# mypy: disable-error-code="no-untyped-call"
"""Bus out: events the gateway publishes in a node's stead (see :mod:`gateway.failover.departures`).

Two callers: failover, for a dead node's channels and bridges, and the ownership audit
(:mod:`gateway.ownership_audit`), for channels a live node ended while its agent was away.
The events go to the stasis exchange under the node's routing keys, exactly where its agent would
have put them, so they take the path of every real event: the tracker (ownership, call index,
bridge members, link clean-up) and the app's dispatcher (``links.app_view``, websockets, SDK).
Nothing downstream needs to know they were written by a gateway; the header ``agent_run`` says
so for whoever looks (``standin-<gateway id>-<random>``: the event ids it makes with ``seq`` must
not repeat those of an earlier process with the same gateway id, or the event log drops them).

Kombu is synchronous and the bus worker's connections belong to its thread, so the notifier has
its own connection, opened on first use, used from one worker thread at a time (publishing is
rare: a node died, a channel's end went unheard), with publisher confirms.
"""

import asyncio
import itertools
import json
import logging
import threading
import uuid
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange
from kombu.messaging import Producer

from ariscale_common.amqp_transport import ReadAheadTransport
from ariscale_common.bus import (
    HEADER_AGENT_RUN,
    HEADER_APP,
    HEADER_EVENT_TYPE,
    HEADER_NODE_ID,
    HEADER_SEQ,
    STASIS_EXCHANGE,
    STASIS_EXCHANGE_TYPE,
    stasis_routing_key,
)

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S = 5.0


class StandInNotifier:
    def __init__(self, url: str, gateway_id: str) -> None:
        self._url = url
        self._run = f"standin-{gateway_id}-{uuid.uuid4().hex[:8]}"
        self._seq = itertools.count(1)
        self._exchange = Exchange(STASIS_EXCHANGE, type=STASIS_EXCHANGE_TYPE, durable=True)
        self._lock = threading.Lock()
        self._conn: Connection | None = None

    async def publish(self, node_id: str, events: list[dict[str, Any]]) -> None:
        """Publish ``events`` (each naming its ``application``) as if ``node_id``'s agent had sent them."""
        if events:
            await asyncio.to_thread(self._publish_all, node_id, events)

    async def close(self) -> None:
        await asyncio.to_thread(self._drop)

    def _publish_all(self, node_id: str, events: list[dict[str, Any]]) -> None:
        with self._lock:
            try:
                self._send(node_id, events)
            except Exception:  # a stale connection: one fresh attempt, then let the caller know
                log.warning("publishing for node %s failed; reconnecting once", node_id, exc_info=True)
                self._drop_locked()
                self._send(node_id, events)

    def _send(self, node_id: str, events: list[dict[str, Any]]) -> None:
        producer = Producer(self._connection().default_channel, exchange=self._exchange)
        for event in events:
            app, event_type = str(event["application"]), str(event["type"])
            producer.publish(
                json.dumps(event).encode(),
                routing_key=stasis_routing_key(app, node_id, event_type),
                headers=self._headers(node_id, app, event_type),
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                retry=False,
                confirm_timeout=CONFIRM_TIMEOUT_S,
            )

    def _headers(self, node_id: str, app: str, event_type: str) -> dict[str, Any]:
        return {
            HEADER_NODE_ID: node_id,
            HEADER_APP: app,
            HEADER_EVENT_TYPE: event_type,
            HEADER_AGENT_RUN: self._run,
            HEADER_SEQ: next(self._seq),
        }

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = Connection(
                self._url,
                heartbeat=0,
                transport=ReadAheadTransport,
                transport_options={"confirm_publish": True},
            )
            conn.ensure_connection(max_retries=3)
            self._exchange(conn.default_channel).declare()
            self._conn = conn
        return self._conn

    def _drop(self) -> None:
        with self._lock:
            self._drop_locked()

    def _drop_locked(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                log.debug("closing the notifier's connection failed", exc_info=True)
            self._conn = None
