# kombu ships partial type hints: its constructors and methods are unannotated.
# mypy: disable-error-code="no-untyped-call"
"""The gateway's side of the bus: one Kombu worker thread for all it consumes and forwards.

It declares and consumes the gateway's part of the bus topology (:mod:`ariscale_common.bus`):
the ownership queue, the app queues of apps it dispatches, and its own forwarding queue.

Kombu is synchronous: the worker runs in its own thread and reaches the event loop through
``asyncio.run_coroutine_threadsafe``, waiting for each message's outcome before the next one (that
wait is what keeps events in order). Publishing uses a second connection: a confirm wait on the
consuming connection would deliver other messages re-entrantly.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from functools import partial
from typing import Any, TypeVar

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Consumer
from kombu.mixins import ConsumerProducerMixin

from ariscale_common import Health, LinkState
from ariscale_common.bus import (
    APP_HEADER,
    APP_QUEUE_TTL_MS,
    AVOID_HEADER,
    GATEWAY_EXCHANGE,
    INSTANCE_HEADER,
    OWNERSHIP_QUEUE,
    STASIS_EXCHANGE,
    STASIS_EXCHANGE_TYPE,
    all_apps_binding,
    app_binding,
    app_queue_name,
    gateway_queue_name,
    parse_routing_key,
)
from ariscale_common.dialplan import LINK_APP
from gateway.consul_watch import ConsulWatch
from gateway.events.dispatch import Forward, NoLiveInstance

log = logging.getLogger(__name__)

PREFETCH = 50
HEARTBEAT_S = 10
CALL_TIMEOUT_S = 60.0  # one message's handling on the loop (sends time out well before)
RETRY_PAUSE_S = 0.2  # before a message that could not be handled is requeued
QUEUE_WAIT_S = 5.0  # for an app's queue to be declared before its websocket is accepted

Track = Callable[[str, str, str, bytes], Coroutine[Any, Any, None]]
Dispatch = Callable[[str, bytes, str | None], Coroutine[Any, Any, Forward | None]]
Deliver = Callable[[str, str, bytes], Coroutine[Any, Any, bool]]
T = TypeVar("T")

_stasis = Exchange(STASIS_EXCHANGE, type=STASIS_EXCHANGE_TYPE, durable=True)
_gateways = Exchange(GATEWAY_EXCHANGE, type="direct", durable=True)


def app_queue(app: str) -> Queue:
    return Queue(
        app_queue_name(app),
        exchange=_stasis,
        routing_key=app_binding(app),
        durable=True,
        queue_arguments={"x-single-active-consumer": True, "x-message-ttl": APP_QUEUE_TTL_MS},
    )


def ownership_queue() -> Queue:
    return Queue(
        OWNERSHIP_QUEUE,
        exchange=_stasis,
        routing_key=all_apps_binding(),
        durable=True,
        queue_arguments={"x-single-active-consumer": True},
    )


def gateway_queue(gateway_id: str) -> Queue:
    return Queue(gateway_queue_name(gateway_id), exchange=_gateways, routing_key=gateway_id, auto_delete=True)


class BusWorker(ConsumerProducerMixin):
    """Consumes the ownership queue, this gateway's queue and the queues of apps it dispatches."""

    def __init__(
        self,
        url: str,
        gateway_id: str,
        loop: asyncio.AbstractEventLoop,
        health: Health,
        track: Track,
        dispatch: Dispatch,
        deliver: Deliver,
        reconnect_max: float = 5.0,
    ) -> None:
        self._url = url
        self.connection = Connection(url, heartbeat=HEARTBEAT_S, connect_timeout=5)
        self.gateway_id = gateway_id
        self._loop = loop
        self._health = health
        self._track = track
        self._dispatch = dispatch
        self._deliver = deliver
        self._reconnect_max = reconnect_max
        self._lock = threading.Lock()
        self._wanted: set[str] = set()  # apps to dispatch (loop side, under _lock)
        self._known: set[str] = set()  # apps whose queue must exist (loop side, under _lock)
        self._consumers: dict[str, Consumer] = {}  # thread side: app -> consumer on its own channel
        self._declared: set[str] = set()
        self._conn: Connection | None = None
        self._thread = threading.Thread(target=self._run_forever, name="amqp-gateway", daemon=True)

    # -- the event loop's side -------------------------------------------------------------------

    def start(self) -> None:
        self._report(LinkState.CONNECTING, "")
        self._thread.start()

    async def stop(self) -> None:
        self.should_stop = True
        await asyncio.to_thread(self._thread.join, 10)

    def dispatch_app(self, app: str) -> None:
        """Start consuming the app's queue (non-blocking; the thread acts on its next turn)."""
        with self._lock:
            self._wanted.add(app)

    def stop_dispatching(self, app: str) -> None:
        """Stop consuming the app's queue; what was prefetched goes back to it, in order."""
        with self._lock:
            self._wanted.discard(app)

    def declare_apps(self, apps: Iterable[str]) -> None:
        with self._lock:
            self._known.update(a for a in apps if a != LINK_APP)

    async def app_queue_ready(self, app: str, timeout: float = QUEUE_WAIT_S) -> bool:
        """Have the app's queue declared now and wait until it is (False after ``timeout``): the
        nodes publish an app's events as soon as they serve it, and with no queue they are lost."""
        self.declare_apps([app])
        deadline = time.monotonic() + timeout
        while app not in self._declared:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    def dispatching(self) -> set[str]:
        with self._lock:
            return set(self._wanted)

    # -- the worker thread -----------------------------------------------------------------------

    def _run_forever(self) -> None:
        while not self.should_stop:
            try:
                self.run(safety_interval=0.05)
            except Exception as exc:  # a bug or an unexpected broker answer: start over
                log.exception("AMQP worker failed; restarting")
                self._report(LinkState.DOWN, f"{exc!r}; retry in 1 s")
                time.sleep(1)

    @contextlib.contextmanager
    def establish_connection(self) -> Iterator[Connection]:
        if self._conn is not None:
            self._report(LinkState.CONNECTING, "connection lost; reconnecting")
        self._drop_producer()
        with self.create_connection() as conn:
            conn.ensure_connection(
                self.on_connection_error,
                self.connect_max_retries,
                interval_start=0.2,
                interval_step=0.5,
                interval_max=self._reconnect_max,
            )
            yield conn

    @property
    def producer_connection(self) -> Connection:
        if self._producer_connection is None:
            # No heartbeats on this one: nothing would service them between publishes.
            conn = Connection(self._url, heartbeat=0, transport_options={"confirm_publish": True})
            conn.ensure_connection(self.on_connection_error, self.connect_max_retries)
            self._producer_connection = conn
        return self._producer_connection

    def _drop_producer(self) -> None:
        if self._producer_connection is not None:
            with contextlib.suppress(Exception):
                self._producer_connection.close()
            self._producer_connection = None

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        self._report(LinkState.DOWN, f"{exc!r}; retry in {interval:.1f} s")

    def get_consumers(self, consumer: Callable[..., Consumer], channel: Any) -> list[Consumer]:
        _gateways(channel).declare()
        _stasis(channel).declare()
        return [
            consumer(queues=[ownership_queue()], on_message=self._on_stasis, prefetch_count=PREFETCH),
            consumer(
                queues=[gateway_queue(self.gateway_id)],
                on_message=self._on_forwarded,
                prefetch_count=PREFETCH,
            ),
        ]

    def on_consume_ready(self, connection: Connection, channel: Any, consumers: Any, **_: Any) -> None:
        self._conn = connection
        self._consumers = {}  # channels of the previous connection died with it
        self._declared = set()
        self._reconcile()
        self._report(LinkState.UP, "")

    def on_iteration(self) -> None:
        self._reconcile()

    def _reconcile(self) -> None:
        """Bring the app queues (declared, consumed) in line with what the loop asked for."""
        conn = self._conn
        if conn is None:
            return
        with self._lock:
            wanted = set(self._wanted)
            known = self._known | wanted
        for app in sorted(known - self._declared):
            try:
                app_queue(app)(conn.default_channel).declare()
            except ValueError as exc:  # a name the routing key grammar refuses
                log.warning("app %r: no queue: %s", app, exc)
            self._declared.add(app)
        for app in sorted(wanted - self._consumers.keys()):
            consumer = Consumer(
                conn.channel(),
                queues=[app_queue(app)],
                on_message=partial(self._on_app_event, app),
                prefetch_count=PREFETCH,
            )
            consumer.consume()
            self._consumers[app] = consumer
            log.info("app %s: consuming %s (active when no other gateway is)", app, app_queue_name(app))
        for app in sorted(self._consumers.keys() - wanted):
            consumer = self._consumers.pop(app)
            # Closing the channel returns its unacknowledged messages to the queue, in order.
            with contextlib.suppress(Exception):
                consumer.cancel()
            with contextlib.suppress(Exception):
                consumer.channel.close()  # type: ignore[union-attr]
            log.info("app %s: stopped consuming %s", app, app_queue_name(app))

    def _on_stasis(self, message: Any) -> None:
        try:
            app, node, event_type = parse_routing_key(message.delivery_info["routing_key"])
        except ValueError as exc:
            log.warning("ignored a message on %s: %s", OWNERSHIP_QUEUE, exc)
            message.ack()
            return
        self._settle(message, lambda: self._call(self._track(app, node, event_type, _raw(message))))

    def _on_app_event(self, app: str, message: Any) -> None:
        with self._lock:
            if app not in self._wanted:
                return  # being handed back: left unacknowledged, the channel's close requeues it
        avoid = (message.headers or {}).get(AVOID_HEADER)

        def handle() -> None:
            forward = self._call(self._dispatch(app, _raw(message), avoid))
            if forward is not None:
                headers = {**(message.headers or {}), APP_HEADER: app, INSTANCE_HEADER: forward.instance}
                headers.pop(AVOID_HEADER, None)
                self._publish(message, _gateways, forward.gateway, headers)

        self._settle(message, handle)

    def _on_forwarded(self, message: Any) -> None:
        headers = dict(message.headers or {})
        app, instance = headers.get(APP_HEADER), headers.get(INSTANCE_HEADER)
        if not isinstance(app, str) or not isinstance(instance, str):
            log.warning("ignored a forwarded event without %s/%s headers", APP_HEADER, INSTANCE_HEADER)
            message.ack()
            return

        def handle() -> None:
            if not self._call(self._deliver(app, instance, _raw(message))):
                headers[AVOID_HEADER] = instance
                self._publish(message, "", app_queue_name(app), headers)

        self._settle(message, handle)

    def _settle(self, message: Any, handle: Callable[[], None]) -> None:
        """Ack once ``handle`` has handed the message on; requeue it when it could not."""
        try:
            handle()
        except NoLiveInstance:
            time.sleep(RETRY_PAUSE_S)  # this thread's own pause: the loop is not blocked
            message.requeue()
            return
        except self.connection.connection_errors:
            raise  # the mixin reconnects; unacknowledged messages go back to their queues
        except Exception:
            log.exception("could not handle a message from %s; requeued", message.delivery_info)
            time.sleep(RETRY_PAUSE_S)
            message.requeue()
            return
        message.ack()

    def _publish(self, message: Any, exchange: Exchange | str, key: str, headers: dict[str, Any]) -> None:
        self.producer.publish(
            message.body,
            exchange=exchange,
            routing_key=key,
            headers=headers,
            content_type=message.content_type or "application/json",
            content_encoding=message.content_encoding or "utf-8",
            delivery_mode=2,
        )

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT_S)

    def _report(self, state: LinkState, detail: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody reads health any more
            self._loop.call_soon_threadsafe(self._health.set, "amqp", state, detail)


def _raw(message: Any) -> bytes:
    """The body as published (py-amqp hands it over decoded when it names an encoding)."""
    body = message.body
    return body if isinstance(body, bytes) else str(body).encode()


async def follow_apps(worker: BusWorker, watch: ConsulWatch, interval: float = 1.0) -> None:
    """Keep a queue declared for every app in Consul, so its events wait for its first instance."""
    while True:
        worker.declare_apps(watch.snapshot.apps)
        await asyncio.sleep(interval)
