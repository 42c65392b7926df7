"""Websocket instances of apps: those attached to this gateway, and every live one, in Redis.

An *instance* is one ``/ari/events`` websocket of one app. Its id is ``<gateway id>/<hex>``, so
any gateway can tell where it is attached (:func:`gateway_of`); a gateway's id is unique to its
process run (:func:`process_gateway_id`).

Redis, under the gateway's key prefix (the registry reads the first one to show consumers):

* ``<prefix>instances:<app>`` — sorted set; member = instance id, score = the Unix time until
  which the instance counts as live. Each gateway renews its own instances every
  ``instance_heartbeat_seconds`` and, when a websocket closes, sets its score to now; a crashed
  gateway's instances lapse after ``instance_ttl_seconds``. Lapsed members stay an hour, so the
  highest score also tells since when an app has had nobody (:meth:`InstanceRegistry.last_live`).
  Live consumers of an app: ``ZCOUNT <prefix>instances:<app> (<now> +inf``
  (:meth:`InstanceRegistry.live_count`).
"""

import asyncio
import logging
import os
import secrets
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from ariscale_common import Health, LinkState
from ariscale_common.background import Periodic
from ariscale_common.consumers import live_consumers
from ariscale_common.keyspace import Keyspace
from gateway import metrics
from gateway.events.sequence import RESTARTED, Delivered, EventLog, Replay
from gateway.redis_store import RedisStore, as_str

log = logging.getLogger(__name__)

_KEEP_LAPSED = 3600.0  # seconds a lapsed instance stays listed

Send = Callable[[str], Awaitable[None]]
AppHook = Callable[[str], None]
QueueReady = Callable[[str], Awaitable[bool]]


def process_gateway_id(configured: str) -> str:
    """This gateway process's id: the configured name (default ``<hostname>:<pid>``) and a run id.

    Other gateways forward events to the queue named after it, so two processes given one name
    (a restart while the old one drains, a copied setting) must not share it: each would take
    half of the events meant for the other's websockets."""
    return f"{configured or f'{socket.gethostname()}:{os.getpid()}'}.{secrets.token_hex(3)}"


def gateway_of(instance_id: str) -> str:
    """The gateway an instance is attached to (its id up to the last ``/``)."""
    return instance_id.rpartition("/")[0]


class Instance:
    """One websocket of one app on this gateway, with its own bounded send queue and writer.

    ``send`` only queues (it never waits for the client), so a client that does not read cannot
    slow the delivery of other apps' events: it is disconnected once ``queue_size`` events wait
    for it, or when one event takes longer than ``send_timeout`` to write. ``send`` never raises:
    False means the instance is gone. Numbered events (``send_event``) are written once each; an
    instance resuming ``after`` a number holds them until :meth:`release` gives it the replay. A
    number of another count than the ones it was given (the app's numbering started over) closes
    it with ``close_reason`` RESTARTED: no new event passes for a repeat.
    """

    def __init__(
        self,
        app: str,
        instance_id: str,
        send: Send,
        send_timeout: float,
        queue_size: int = 1000,
        after: int | None = None,
    ) -> None:
        self.app = app
        self.id = instance_id
        self.closed = asyncio.Event()
        self.close_reason: str | None = None  # said to the client when the gateway closes on it
        self._send = send
        self._send_timeout = send_timeout
        self._queue: asyncio.Queue[tuple[str, int | None]] = asyncio.Queue(queue_size)
        self._writer: asyncio.Task[None] | None = None
        self._delivered = Delivered(after or 0)
        self._held = after is not None
        self._replay: list[tuple[int, str]] = []

    async def send(self, text: str) -> bool:
        """Queue a message that is not a numbered event (a RESTResponse)."""
        return self._put(text, None)

    async def send_event(self, text: str, seq: int, epoch: str | None = None) -> bool:
        """Queue the app's event number ``seq`` of count ``epoch`` (dropped when this connection
        has had it; False, closed, when the count is not this connection's)."""
        return self._put(text, seq) if self.same_count(epoch) else False

    def same_count(self, epoch: str | None) -> bool:
        """Whether numbers of ``epoch`` can be written here; if not, the instance is closed."""
        if self.closed.is_set() or self._delivered.same_count(epoch):
            return True
        log.warning("app %s instance %s: the app's sequence started over (Redis lost its log); closing it",
                    self.app, self.id)  # fmt: skip
        self.close(RESTARTED)
        return False

    def release(self, replay: Replay) -> None:
        """Write the replay's events (in order), then what was queued meanwhile."""
        if not self.same_count(replay.epoch):
            return
        self._replay, self._held = replay.events, False
        self._start_writer()

    def _put(self, text: str, seq: int | None) -> bool:
        if self.closed.is_set():
            return False
        if not self._held:
            self._start_writer()
        try:
            self._queue.put_nowait((text, seq))
        except asyncio.QueueFull:
            log.warning("app %s instance %s: %d events unread, disconnecting it as stuck",
                        self.app, self.id, self._queue.maxsize)  # fmt: skip
            self.closed.set()
            return False
        metrics.event_delivered(self.app, text)
        return True

    def _start_writer(self) -> None:
        if self._writer is None and not self.closed.is_set():
            self._writer = asyncio.create_task(self._write(), name=f"ws-writer-{self.id}")

    def close(self, reason: str | None = None) -> None:
        """Stop writing (idempotent); events still queued are dropped with the websocket."""
        if not self.closed.is_set():
            self.close_reason = reason
        self.closed.set()
        if self._writer is not None:
            self._writer.cancel()

    async def _write(self) -> None:
        replay, self._replay = self._replay, []
        for seq, text in replay:
            if self._delivered.first_time(seq) and not await self._write_one(text):
                return
        while not self.closed.is_set():
            text, number = await self._queue.get()
            if number is not None and not self._delivered.first_time(number):
                continue  # the bus or the replay brought it again
            if not await self._write_one(text):
                return

    async def _write_one(self, text: str) -> bool:
        try:
            async with asyncio.timeout(self._send_timeout):
                await self._send(text)
            return True
        except Exception as exc:  # closed by the peer, or stuck longer than the timeout
            log.info("app %s instance %s: send failed (%r), closing it", self.app, self.id, exc)
            self.closed.set()
            return False


class InstanceRegistry(RedisStore):
    """The live instances of every app, across all gateways (Redis)."""

    def __init__(self, redis: Redis, keys: Keyspace, ttl: float) -> None:
        super().__init__(redis, keys)
        self._ttl = ttl

    def key(self, app: str) -> str:
        return self._keys.instances(app)

    async def renew(self, app: str, instance_ids: list[str]) -> None:
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self.key(app), dict.fromkeys(instance_ids, now + self._ttl))
            pipe.zremrangebyscore(self.key(app), "-inf", now - _KEEP_LAPSED)
            await pipe.execute()

    async def ping(self) -> None:
        await self._redis.ping()

    async def remove(self, app: str, instance_id: str) -> None:
        """Not live from now on (kept as lapsed, see :meth:`last_live`)."""
        await self._redis.zadd(self.key(app), {instance_id: time.time()})

    async def last_live(self, app: str) -> float:
        """Until when the app's last instance was live (later than now: live now; 0: never)."""
        top = await self._redis.zrange(self.key(app), -1, -1, withscores=True)
        return float(top[0][1]) if top else 0.0

    async def live(self, app: str) -> list[str]:
        members = await self._redis.zrangebyscore(self.key(app), f"({time.time()}", "+inf")
        return sorted(as_str(m) for m in members)

    async def live_count(self, app: str) -> int:
        return await live_consumers(self._redis, self._keys.prefix, app)


async def _no_queue(app: str) -> bool:
    """No bus to wait for."""
    return True


class Instances:
    """Attaches and detaches this gateway's websockets and keeps them live in Redis.

    Hooks given to :meth:`follow` run when an app gets its first instance here and when it loses
    its last one: the bus worker starts and stops dispatching the app's queue with them.
    """

    def __init__(
        self,
        registry: InstanceRegistry,
        gateway_id: str,
        health: Health,
        heartbeat: float,
        send_timeout: float,
        queue_size: int = 1000,
        events: EventLog | None = None,
    ) -> None:
        self.registry = registry
        self._events = events
        self.gateway_id = gateway_id
        self._health = health
        self._heartbeat = heartbeat
        self._send_timeout = send_timeout
        self._queue_size = queue_size
        self._on_first: AppHook = _nobody
        self._on_last: AppHook = _nobody
        self._queue_ready: QueueReady = _no_queue
        self._local: dict[str, Instance] = {}
        self._task = Periodic("instances-heartbeat", self._renew, heartbeat)

    def follow(self, on_first: AppHook, on_last: AppHook, queue_ready: QueueReady = _no_queue) -> None:
        """Call ``on_first(app)``/``on_last(app)`` when this gateway gets / loses an app's instances;
        :meth:`prepare` awaits ``queue_ready(app)``."""
        self._on_first, self._on_last, self._queue_ready = on_first, on_last, queue_ready

    async def prepare(self, app: str, after: int | None = None) -> None:
        """Before an instance is let in: a resume ``after`` can be served (else ApiError), and the
        app's queue exists, so no event from then on is lost."""
        if after is not None and self._events is not None:
            await self._events.check(app, after)
        if not await self._queue_ready(app):
            log.warning("app %s: its queue is not declared yet (AMQP down?): events before it are lost", app)

    def local(self, instance_id: str) -> Instance | None:
        return self._local.get(instance_id)

    def local_counts(self) -> dict[str, int]:
        """How many websockets each app has on this gateway."""
        return dict(Counter(i.app for i in self._local.values()))

    def local_of(self, app: str) -> list[Instance]:
        return [i for i in self._local.values() if i.app == app]

    async def attach(self, app: str, send: Send, after: int | None = None) -> Instance:
        """A live instance; resuming ``after`` a number, it first gets the logged events after it
        (ApiError when they are no longer kept: the instance is detached)."""
        instance_id = f"{self.gateway_id}/{uuid.uuid4().hex[:12]}"
        resume = after if self._events is not None else None
        instance = Instance(app, instance_id, send, self._send_timeout, self._queue_size, resume)
        first = not self.local_of(app)
        self._local[instance.id] = instance
        await self.registry.renew(app, [instance.id])
        log.info(
            "app %s: instance %s attached%s", app, instance.id, "" if after is None else f" after {after}"
        )
        if first:
            self._on_first(app)
        if resume is not None and self._events is not None:
            # Live already, so nothing numbered from now on misses it; the replay covers the rest.
            try:
                replay = await self._events.resume(app, resume, instance.id, time.time())
            except Exception:
                await self.detach(instance)
                raise
            log.info(
                "app %s: instance %s resumes with %d logged events", app, instance.id, len(replay.events)
            )
            instance.release(replay)
        return instance

    def restarted(self, app: str, epoch: str | None) -> None:
        """Close this gateway's instances of ``app`` given numbers of a count before ``epoch``."""
        for instance in self.local_of(app):
            instance.same_count(epoch)

    async def detach(self, instance: Instance) -> None:
        """Forget ``instance`` (idempotent). Its calls go to the app's other instances from now on."""
        instance.close()
        if self._local.pop(instance.id, None) is None:
            return
        # Out of Redis first, so that no dispatcher picks it while the app queue is handed over.
        try:
            await self.registry.remove(instance.app, instance.id)
        except Exception as exc:  # Redis away: the lease lapses by itself, until then it counts as live
            log.warning("app %s: instance %s stays listed in Redis until its lease lapses: %r",
                        instance.app, instance.id, exc)  # fmt: skip
        log.info("app %s: instance %s detached", instance.app, instance.id)
        if not self.local_of(instance.app):
            self._on_last(instance.app)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
        for instance in list(self._local.values()):
            await self.detach(instance)

    async def _renew(self) -> None:
        """Renew every local instance; this is also the gateway's Redis health probe."""
        try:
            by_app: dict[str, list[str]] = {}
            for instance in list(self._local.values()):
                by_app.setdefault(instance.app, []).append(instance.id)
            for app, ids in by_app.items():
                await self.registry.renew(app, ids)
            await self.registry.ping()
            self._health.set("redis", LinkState.UP)
        except Exception as exc:  # Redis unreachable: say so, keep trying
            self._health.set("redis", LinkState.DOWN, f"{exc!r}; retry in {self._heartbeat:.1f} s")


def _nobody(app: str) -> None:
    """The hook of an app change nobody follows."""
