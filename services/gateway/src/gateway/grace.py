"""Calls nobody handles are hung up after a grace period, not left ringing in Stasis.

The :class:`CallIndex` (kept by :mod:`gateway.tracking` from every node's events) knows which
channels are in Stasis for each app. Every gateway sweeps it (one at a time, under a short Redis
lock): an app with no live instance anywhere (see :mod:`gateway.instances`) has its calls hung up
on their owner nodes once the call is ``grace`` seconds old and the app has had no instance for
``grace`` seconds (the last instance's lapse time is kept in ``<prefix>instances:<app>``).
So a call that arrives while nobody listens, and every call of an app whose last instance went
away (websocket closed, or its gateway crashed), gets the same grace: enough for an instance to
reconnect and pick its calls up from the app's queue.

Redis, under the gateway's key prefix:

* ``<prefix>calls:<app>`` — sorted set; member = channel id, score = Unix time of its StasisStart.
* ``<prefix>call-apps`` — set of apps that may have calls (pruned by the sweep when empty).
* ``<prefix>lock:grace`` — held for one sweep by the gateway doing it.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from gateway.instances import InstanceRegistry, as_str
from gateway.ownership import Kind, OwnershipStore

log = logging.getLogger(__name__)

HangUp = Callable[[str, str], Awaitable[None]]
"""``hang_up(node, channel id)``: hang the channel up on its node (a channel already gone is fine)."""

# Remove the app from the index only if it still has no calls (a StasisStart may have just come).
_PRUNE = "if redis.call('ZCARD', KEYS[1]) == 0 then return redis.call('SREM', KEYS[2], ARGV[1]) end return 0"


class CallIndex:
    """Channels in Stasis, per app (Redis)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, app: str) -> str:
        return f"{self._prefix}calls:{app}"

    @property
    def _apps_key(self) -> str:
        return f"{self._prefix}call-apps"

    async def add(self, app: str, channel_id: str, since: float | None = None) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._key(app), {channel_id: since if since is not None else time.time()})
            pipe.sadd(self._apps_key, app)
            await pipe.execute()

    async def remove(self, app: str, channel_id: str) -> None:
        await self._redis.zrem(self._key(app), channel_id)

    async def apps(self) -> list[str]:
        members: set[bytes | str] = await self._redis.smembers(self._apps_key)
        return sorted(as_str(a) for a in members)

    async def calls(self, app: str, arrived_before: float = float("inf")) -> list[str]:
        upper = "+inf" if arrived_before == float("inf") else f"({arrived_before}"
        return [as_str(c) for c in await self._redis.zrangebyscore(self._key(app), "-inf", upper)]

    async def prune(self, app: str) -> None:
        await self._redis.eval(_PRUNE, 2, self._key(app), self._apps_key, app)


class GraceSweeper:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        calls: CallIndex,
        registry: InstanceRegistry,
        ownership: OwnershipStore,
        hang_up: HangUp,
        grace: float,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._calls = calls
        self._registry = registry
        self._ownership = ownership
        self._hang_up = hang_up
        self.grace = grace
        self.interval = max(0.05, min(1.0, grace / 5))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._sweep_forever(), name="grace-sweeper")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sweep(self) -> int:
        """One pass over every app with calls; returns how many calls were hung up."""
        lock = f"{self._prefix}lock:grace"
        if not await self._redis.set(lock, "1", nx=True, px=max(100, int(self.interval * 900))):
            return 0  # another gateway is sweeping right now
        hung_up = 0
        for app in await self._calls.apps():
            hung_up += await self._sweep_app(app, time.time())
        return hung_up

    async def _sweep_app(self, app: str, now: float) -> int:
        since = await self._registry.last_live(app)  # later than now: someone is connected
        if now - since < self.grace:
            await self._calls.prune(app)
            return 0
        hung_up = 0
        for channel_id in await self._calls.calls(app, arrived_before=now - self.grace):
            owner = await self._ownership.get(Kind.CHANNEL, channel_id)
            if owner is None:  # destroyed meanwhile (or Redis lost it: nothing left to reach)
                await self._calls.remove(app, channel_id)
                continue
            try:
                await self._hang_up(owner.node, channel_id)
            except Exception as exc:  # node unreachable: try again on the next sweep
                log.warning("app %s: hang-up of %s on %s failed: %r", app, channel_id, owner.node, exc)
                continue
            log.warning(
                "app %s has no connected instance: hung up channel %s on node %s after %.1f s grace",
                app, channel_id, owner.node, self.grace,
            )  # fmt: skip
            await self._calls.remove(app, channel_id)
            hung_up += 1
        await self._calls.prune(app)
        return hung_up

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # Redis down: the instances heartbeat reports it; keep going
                log.debug("grace sweep failed: %r", exc)
            await asyncio.sleep(self.interval)
