# kombu ships partial type hints: its constructors and methods are unannotated.
# mypy: disable-error-code="no-untyped-call"
"""The gateway's side of the bus: one Kombu worker thread for all it consumes and forwards.

It declares and consumes the gateway's part of the bus topology (:mod:`ariscale_common.bus`):
the ownership queues of the nodes whose share it has (:mod:`gateway.events.shares`), the app
queues of apps it dispatches, and its own forwarding queue.

Kombu is synchronous: the worker runs in its own thread and hands each delivery to the event
loop through its consumer's :class:`~gateway.events.lanes.Lane` without waiting for it; the lane
keeps the order, the thread settles the outcomes on its next turn. Publishing uses a second
connection: a confirm wait on the consuming connection would deliver other messages re-entrantly.
"""

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from functools import partial
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Consumer
from kombu.mixins import ConsumerProducerMixin

from ariscale_common import Health, LinkState
from ariscale_common.amqp_transport import ReadAheadTransport
from ariscale_common.bus import (
    APP_HEADER,
    APP_QUEUE_TTL_MS,
    AVOID_HEADER,
    EPOCH_HEADER,
    GATEWAY_EXCHANGE,
    HEADER_NODE_ID,
    INSTANCE_HEADER,
    LEGACY_OWNERSHIP_QUEUE,
    OWNERSHIP_EVENT_TYPES,
    SEQ_HEADER,
    STASIS_EXCHANGE,
    STASIS_EXCHANGE_TYPE,
    CarriedEvent,
    app_binding,
    app_queue_name,
    declare_ownership_queue,
    gateway_queue_name,
    ownership_queue_name,
    parse_routing_key,
    unpack_events,
)
from ariscale_common.dialplan import LINK_APP
from gateway import metrics
from gateway.consul_watch import ConsulWatch
from gateway.events.dispatch import Forward
from gateway.events.lanes import ACK, FINISHED, RETRY, Lane, Outcome, Publish, Work

log = logging.getLogger(__name__)

PREFETCH = 500  # deliveries in flight per consumer: acks come a turn later, not per message
HEARTBEAT_S = 10
QUEUE_WAIT_S = 5.0  # for an app's queue to be declared before its websocket is accepted
TURN_S = 0.02  # the thread's longest wait for the broker before it settles outcomes again
# With nothing delivered for BUSY_FOR_S and nothing left to settle, the thread waits this long
# instead: an idle gateway wakes 10 times a second, not 50 (its idle CPU counted per call under
# light load). What the loop asks meanwhile (an app's queue for a new websocket) waits as long.
IDLE_TURN_S = 0.1
BUSY_FOR_S = 0.5
RETRY_PAUSE_S = 0.2  # before a message that could not be handled is delivered again
# Handled deliveries are acknowledged together: one ack per lane at most every ACK_EVERY_S or
# ACK_BATCH messages (an ack per message was 7 % of the gateway's CPU, and the broker's too).
# What a crash leaves unacknowledged is delivered again; the event log numbers it as before.
ACK_EVERY_S = 0.05
ACK_BATCH = 100

Track = Callable[[str, str, str, bytes], Coroutine[Any, Any, None]]
# (app, [(body, event id)], avoid, node) -> for each event, where to forward it (None: handled)
Dispatch = Callable[
    [str, list[tuple[bytes, str | None]], str | None, str | None], Coroutine[Any, Any, list[Forward | None]]
]
Deliver = Callable[[str, str, bytes, int | None, str | None], Coroutine[Any, Any, bool]]

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


def _declare_app_queue(channel: Any, app: str) -> None:
    app_queue(app)(channel).declare()


def _delete_legacy_ownership_queue(connection: Connection) -> None:
    """Earlier versions had one ownership queue for the cluster: nobody consumes it any more."""
    try:
        with connection.channel() as channel:
            channel.queue_delete(LEGACY_OWNERSHIP_QUEUE)
    except Exception as exc:  # left there it only fills: say so
        log.warning("could not delete the old queue %s: %r", LEGACY_OWNERSHIP_QUEUE, exc)


def gateway_queue(gateway_id: str) -> Queue:
    return Queue(gateway_queue_name(gateway_id), exchange=_gateways, routing_key=gateway_id, auto_delete=True)


class _Stopping(Exception):
    """Raised out of Kombu's reconnect loop once the worker is told to stop."""


class BusWorker(ConsumerProducerMixin):
    """Consumes its share of the nodes' ownership queues, this gateway's queue and the queues of
    apps it dispatches."""

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
        self.connection = Connection(
            url, heartbeat=HEARTBEAT_S, connect_timeout=5, transport=ReadAheadTransport
        )
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
        self._share: set[str] = set()  # nodes whose ownership queue to consume (loop side, under _lock)
        self._nodes: set[str] = set()  # nodes whose ownership queue must exist (loop side, under _lock)
        self._changed = True  # any of the four since the last _reconcile (under _lock)
        self._consumers: dict[str, Consumer] = {}  # thread side: lane name -> consumer on its own channel
        self._finishing: set[str] = set()  # thread side: lanes that finish before their channel closes
        self._giving_back: set[str] = set()  # thread side: lanes that left a delivery unacknowledged
        self._lanes: dict[str, Lane] = {}  # thread side: consumer name -> its lane
        self._settled: queue.SimpleQueue[tuple[Lane, Any, Outcome]] = queue.SimpleQueue()
        self._unacked: dict[str, tuple[Lane, Any, int]] = {}  # lane name -> (lane, last handled, count)
        self._acked_at = 0.0
        self._delivered_at = 0.0  # thread side: when the broker last sent something
        self._declared: set[str] = set()  # thread side: lane names of queues declared
        self._conn: Connection | None = None
        self._thread = threading.Thread(target=self._run_forever, name="amqp-gateway", daemon=True)

    # -- the event loop's side -------------------------------------------------------------------

    def start(self) -> None:
        self._report(LinkState.CONNECTING, "")
        self._thread.start()

    async def stop(self) -> None:
        self.should_stop = True
        await asyncio.to_thread(self._thread.join, 10)
        self._close_lanes()

    def dispatch_app(self, app: str) -> None:
        """Start consuming the app's queue (non-blocking; the thread acts on its next turn)."""
        with self._lock:
            self._changed |= app not in self._wanted
            self._wanted.add(app)

    def stop_dispatching(self, app: str) -> None:
        """Stop consuming the app's queue; what was prefetched goes back to it, in order."""
        with self._lock:
            self._changed |= app in self._wanted
            self._wanted.discard(app)

    def declare_apps(self, apps: Iterable[str]) -> None:
        with self._lock:
            new = {a for a in apps if a != LINK_APP} - self._known
            self._changed |= bool(new)
            self._known |= new

    async def app_queue_ready(self, app: str, timeout: float = QUEUE_WAIT_S) -> bool:
        """Have the app's queue declared now and wait until it is (False after ``timeout``): the
        nodes publish an app's events as soon as they serve it, and with no queue they are lost."""
        self.declare_apps([app])
        deadline = time.monotonic() + timeout
        while _app_lane(app) not in self._declared:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    def dispatching(self) -> set[str]:
        with self._lock:
            return set(self._wanted)

    def track_nodes(self, share: Iterable[str], known: Iterable[str]) -> None:
        """Consume the ownership queues of the nodes in ``share`` (only theirs), and have one
        declared for every node ``known``, so their events wait for whoever takes them."""
        with self._lock:
            share, known = set(share), set(known)
            self._changed |= share != self._share or known != self._nodes
            self._share, self._nodes = share, known

    # -- the worker thread -----------------------------------------------------------------------

    def _run_forever(self) -> None:
        while not self.should_stop:
            try:
                self.run()
            except _Stopping:
                return
            except Exception as exc:  # a bug or an unexpected broker answer: start over
                log.exception("AMQP worker failed; restarting")
                self._report(LinkState.DOWN, f"{exc!r}; retry in 1 s")
                time.sleep(1)

    @contextlib.contextmanager
    def establish_connection(self) -> Iterator[Connection]:
        if self._conn is not None:
            self._report(LinkState.CONNECTING, "connection lost; reconnecting")
        self._drop_producer()
        self._close_lanes()  # their channels died with the connection: the broker requeued all
        with self.create_connection() as conn:
            conn.ensure_connection(
                self.on_connection_error,
                self.connect_max_retries,
                interval_start=0.2,
                interval_step=0.5,
                interval_max=self._reconnect_max,
                callback=self._unless_stopping,
            )
            yield conn

    @property
    def producer_connection(self) -> Connection:
        if self._producer_connection is None:
            # No heartbeats on this one: nothing would service them between publishes.
            conn = Connection(
                self._url,
                heartbeat=0,
                transport=ReadAheadTransport,
                transport_options={"confirm_publish": True},
            )
            conn.ensure_connection(
                self.on_connection_error, self.connect_max_retries, callback=self._unless_stopping
            )
            self._producer_connection = conn
        return self._producer_connection

    def _drop_producer(self) -> None:
        if self._producer_connection is not None:
            with contextlib.suppress(Exception):
                self._producer_connection.close()
            self._producer_connection = None

    def _unless_stopping(self) -> None:
        """Kombu calls this at least once a second while it waits to reconnect: a gateway that is
        shutting down during a broker outage stops waiting (it was killed after the join's 10 s)."""
        if self.should_stop:
            raise _Stopping

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        self._report(LinkState.DOWN, f"{exc!r}; retry in {interval:.1f} s")

    def get_consumers(self, consumer: Callable[..., Consumer], channel: Any) -> list[Consumer]:
        _gateways(channel).declare()
        _stasis(channel).declare()
        return []  # each consumer gets a channel of its own (on_consume_ready): one lane each

    def on_consume_ready(self, connection: Connection, channel: Any, consumers: Any, **_: Any) -> None:
        self._conn = connection
        self._consumers = {}  # channels of the previous connection died with it
        self._finishing = set()
        self._giving_back = set()
        self._declared = set()
        self._mark_changed()
        _delete_legacy_ownership_queue(connection)
        self._consume(self.gateway_id, gateway_queue(self.gateway_id), self._on_forwarded)
        self._reconcile()
        self._report(LinkState.UP, "")

    def on_iteration(self) -> None:
        self._settle()
        self._recover_due()
        self._reconcile()

    def consume(self, *_: Any, **options: Any) -> Iterator[None]:
        """Kombu's loop (``ConsumerMixin.consume``) with a wait that depends on what is going on
        (no limit, no timeout: :meth:`run` calls it until the worker stops)."""
        for kombu_option in ("limit", "timeout", "safety_interval"):
            options.pop(kombu_option, None)
        with self.consumer_context(**options) as (conn, _, _):
            while not self.should_stop:
                self.on_iteration()
                try:
                    conn.drain_events(timeout=self._turn())
                except TimeoutError:  # socket.timeout
                    conn.heartbeat_check()
                except OSError:
                    if not self.should_stop:
                        raise
                else:
                    self._delivered_at = time.monotonic()
                    yield None

    def _turn(self) -> float:
        """How long to wait for the broker before the next turn."""
        busy = time.monotonic() - self._delivered_at < BUSY_FOR_S or self._unacked or self._changed
        if busy or any(lane.recover_at for lane in self._lanes.values()):
            return TURN_S
        return IDLE_TURN_S

    def on_consume_end(self, connection: Connection, channel: Any) -> None:
        self._ack_due(everything=True)  # stopping: what was handled must not be delivered again
        super().on_consume_end(connection, channel)

    def _consume(self, name: str, queue_: Queue, on_message: Callable[[Any], None]) -> Consumer:
        assert self._conn is not None
        channel = self._conn.channel()
        consumer = Consumer(channel, queues=[queue_], on_message=on_message, prefetch_count=PREFETCH)
        lane = Lane(name, channel, self._settled)
        lane.start(self._loop)
        self._lanes[name] = lane
        consumer.consume()
        return consumer

    def _close_lanes(self) -> None:
        for lane in self._lanes.values():
            lane.close()
        self._lanes = {}
        self._unacked = {}  # their channels are gone: the broker requeued those

    def _reconcile(self) -> None:
        """Bring the app and ownership queues (declared, consumed) in line with what the loop asked."""
        conn = self._conn
        if conn is None:
            return
        with self._lock:
            if not self._changed:
                return  # it runs after every delivery: nothing to do is the common case
            self._changed = False
            apps, share = set(self._wanted), set(self._share)
            known_apps, known_nodes = self._known | apps, self._nodes | share
        declare = {_app_lane(a): partial(_declare_app_queue, app=a) for a in known_apps}
        declare |= {_ownership_lane(n): partial(declare_ownership_queue, node_id=n) for n in known_nodes}
        for name in sorted(declare.keys() - self._declared):
            try:
                declare[name](conn.default_channel)
            except ValueError as exc:  # a name the routing key grammar refuses
                log.warning("%s: no queue: %s", name, exc)
            self._declared.add(name)
        wanted = {_app_lane(a): (app_queue_name(a), partial(self._on_app_event, a)) for a in apps}
        wanted |= {
            _ownership_lane(n): (ownership_queue_name(n), partial(self._on_ownership_event, n)) for n in share
        }
        for name in sorted(wanted.keys() - self._consumers.keys()):
            queue_name, on_message = wanted[name]
            # Declared above (or by a node agent): a consumer's own declaration would repeat it.
            self._consumers[name] = self._consume(name, Queue(queue_name, no_declare=True), on_message)
            log.info("%s: consuming %s (active when no other gateway is)", name, queue_name)
        ending = (self._consumers.keys() - wanted.keys()) | (self._giving_back & self._consumers.keys())
        for name in sorted(ending - self._finishing):
            # No new deliveries; the lane finishes the message in hand and reports FINISHED,
            # then the channel closes (:meth:`_stop_consuming`).
            with contextlib.suppress(Exception):
                self._consumers[name].cancel()
            lane = self._lanes.get(name)
            if lane is None:
                self._stop_consuming(name)
            else:
                self._finishing.add(name)
                lane.finish()

    def _mark_changed(self) -> None:
        with self._lock:
            self._changed = True

    def _stop_consuming(self, name: str) -> None:
        """Close the lane's channel: its unacknowledged messages go back to the queue, in order."""
        self._ack_lane(name)  # handled ones stay handled
        self._finishing.discard(name)
        self._giving_back.discard(name)
        self._mark_changed()  # it may be wanted again already
        consumer = self._consumers.pop(name)
        lane = self._lanes.pop(name, None)
        if lane is not None:
            lane.close()
        with contextlib.suppress(Exception):
            consumer.channel.close()  # type: ignore[union-attr]
        log.info("%s: stopped consuming", name)

    # -- deliveries (thread side): each handed to its lane, none waited for -----------------------

    def _handing_back(self, name: str, wanted: bool) -> bool:
        """Whether to leave this delivery unacknowledged: its lane is no longer wanted, or left one
        unacknowledged already. An ack covers every earlier delivery of the channel, so once one
        is left, the lane handles nothing more: it winds down and its channel's close gives them
        all back, in order (even if the lane is wanted again meanwhile)."""
        if wanted and name not in self._giving_back:
            return False
        self._giving_back.add(name)
        self._mark_changed()
        return True

    def _on_ownership_event(self, node: str, message: Any) -> None:
        with self._lock:
            wanted = node in self._share
        if self._handing_back(_ownership_lane(node), wanted):
            return
        queue_name = ownership_queue_name(node)
        try:
            app, sender, key_type = parse_routing_key(message.delivery_info["routing_key"])
        except ValueError as exc:
            _drop(message, queue_name, exc)
            return
        events = _carried(message, queue_name)
        if events is None:
            return
        metrics.taken_from_bus("ownership", events[0].body)
        if len(events) == 1:
            tracked = [(key_type, events[0].body)]
        else:  # here for the events that change ownership; the others are the app queue's business
            tracked = [(str(e.event_type), e.body) for e in events if e.event_type in OWNERSHIP_EVENT_TYPES]

        async def work() -> Outcome:
            for event_type, body in tracked:
                await self._track(app, sender, event_type, body)
            return ACK

        self._push(_ownership_lane(node), message, work)

    def _on_app_event(self, app: str, message: Any) -> None:
        with self._lock:
            wanted = app in self._wanted
        if self._handing_back(_app_lane(app), wanted):
            return
        events = _carried(message, app_queue_name(app))
        if events is None:
            return
        metrics.taken_from_bus("app", events[0].body)

        first = events[0].headers  # a message of several events comes from one node, never bounced
        avoid, node = first.get(AVOID_HEADER), first.get(HEADER_NODE_ID)  # the node: the agent's

        async def work() -> Outcome:
            forwards = await self._dispatch(
                app,
                [(e.body, e.event_id) for e in events],
                avoid if isinstance(avoid, str) else None,
                node if isinstance(node, str) else None,
            )
            publishes = tuple(
                _forwarding(app, e.headers, f) for e, f in zip(events, forwards, strict=True) if f
            )
            return publishes or ACK

        self._push(_app_lane(app), message, work)

    def _on_forwarded(self, message: Any) -> None:
        headers = dict(message.headers or {})
        app, instance = headers.get(APP_HEADER), headers.get(INSTANCE_HEADER)
        if not isinstance(app, str) or not isinstance(instance, str):
            log.warning("ignored a forwarded event without %s/%s headers", APP_HEADER, INSTANCE_HEADER)
            message.ack()
            return
        body = _raw(message)
        seq, epoch = headers.get(SEQ_HEADER), headers.get(EPOCH_HEADER)

        async def work() -> Outcome:
            number = seq if isinstance(seq, int) else None
            if await self._deliver(app, instance, body, number, epoch if isinstance(epoch, str) else None):
                return ACK
            return (Publish("", app_queue_name(app), {**headers, AVOID_HEADER: instance}),)

        self._push(self.gateway_id, message, work)

    def _push(self, lane_name: str, message: Any, work: Work) -> None:
        lane = self._lanes.get(lane_name)
        if lane is not None:  # else its channel is closing: the message goes back with it
            lane.push(message, work)

    # -- outcomes (thread side) ------------------------------------------------------------------

    def _settle(self) -> None:
        """Publish what the loop forwards, take back what it could not, ack what it handled.

        A lane's outcomes come in delivery order, so one ack (``multiple``) covers all it
        handled up to then (:meth:`_ack_due`).
        """
        while True:
            try:
                lane, item, outcome = self._settled.get_nowait()
            except queue.Empty:
                break
            if self._lanes.get(lane.name) is not lane:
                continue  # its channel is gone: the broker has requeued the message already
            if outcome == FINISHED:
                self._ack_lane(lane.name)
                self._stop_consuming(lane.name)
                continue
            if outcome == RETRY:
                self._ack_lane(lane.name)
                if lane.recover_at is None:
                    lane.recover_at = time.monotonic() + RETRY_PAUSE_S
                continue
            if isinstance(outcome, tuple):
                for publish in outcome:
                    self._publish(item.message, publish)
            count = self._unacked.get(lane.name, (lane, None, 0))[2]
            self._unacked[lane.name] = (lane, item.message, count + 1)
        self._ack_due()

    def _ack_due(self, everything: bool = False) -> None:
        now = time.monotonic()
        due = everything or now - self._acked_at >= ACK_EVERY_S
        for name, (_, _, count) in list(self._unacked.items()):
            if due or count >= ACK_BATCH:
                self._ack_lane(name)
        if due:
            self._acked_at = now

    def _ack_lane(self, name: str) -> None:
        """Ack everything the lane handled so far (if its channel is still the one it came on)."""
        lane, message, _ = self._unacked.pop(name, (None, None, 0))
        if lane is not None and self._lanes.get(name) is lane:
            _ack_up_to(message)

    def _recover_due(self) -> None:
        """Lanes whose failed message waited long enough: every unacked one back, in order."""
        now = time.monotonic()
        for lane in list(self._lanes.values()):
            if lane.recover_at is not None and lane.recover_at <= now:
                lane.recover_at = None
                lane.generation += 1  # what the lane still holds of the old one is skipped
                lane.channel.basic_recover(requeue=True)

    def _publish(self, message: Any, publish: Publish) -> None:
        self.producer.publish(
            publish.body if publish.body is not None else message.body,
            exchange=publish.exchange,
            routing_key=publish.key,
            headers=publish.headers,
            content_type=message.content_type or "application/json",
            content_encoding=message.content_encoding or "utf-8",
            delivery_mode=2,
        )

    def _report(self, state: LinkState, detail: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody reads health any more
            self._loop.call_soon_threadsafe(self._health.set, "amqp", state, detail)


def _ack_up_to(message: Any | None) -> None:
    """Ack ``message`` and every earlier delivery on its channel."""
    if message is not None:
        message.channel.basic_ack(message.delivery_tag, multiple=True)


def _app_lane(app: str) -> str:
    return f"app:{app}"


def _ownership_lane(node: str) -> str:
    return f"ownership:{node}"


def _forwarding(app: str, headers: dict[str, Any], forward: Forward) -> Publish:
    """Publish the event to the gateway of its instance, with the headers that gateway needs (and
    the agent's, kept so that a bounce back to the app's queue keeps the event's id)."""
    kept = {k: v for k, v in headers.items() if k not in (AVOID_HEADER, SEQ_HEADER, EPOCH_HEADER)}
    forwarded = {
        **kept,
        APP_HEADER: app,
        INSTANCE_HEADER: forward.instance,
        SEQ_HEADER: forward.seq,
        **({EPOCH_HEADER: forward.epoch} if forward.epoch is not None else {}),
    }
    return Publish(_gateways, forward.gateway, forwarded, forward.text.encode())


def _carried(message: Any, queue_name: str) -> list[CarriedEvent] | None:
    """The events a delivery carries; None (and the message dropped) when its headers do not
    describe its body: nothing can be done with it, and left there it would block its queue."""
    try:
        return unpack_events(_raw(message), message.headers or {})
    except ValueError as exc:
        _drop(message, queue_name, exc)
        return None


def _drop(message: Any, queue_name: str, reason: Exception) -> None:
    log.warning("dropped a message on %s: %s", queue_name, reason)
    message.ack()


def _raw(message: Any) -> bytes:
    """The body as published (py-amqp hands it over decoded when it names an encoding)."""
    body = message.body
    return body if isinstance(body, bytes) else str(body).encode()


async def follow_apps(worker: BusWorker, watch: ConsulWatch, interval: float = 1.0) -> None:
    """Keep a queue declared for every app in Consul, so its events wait for its first instance."""
    while True:
        worker.declare_apps(watch.snapshot.apps)
        await asyncio.sleep(interval)
