"""Calls nobody handles are hung up after a grace period, not left ringing in Stasis.

The :class:`CallIndex` (kept by :mod:`gateway.events.tracking` from every node's events) knows which
channels are in Stasis for each app. Every gateway sweeps it (one at a time, under a short Redis
lock): an app with no live instance anywhere (see :mod:`gateway.events.instances`) has its calls hung up
on their owner nodes once the call is ``grace`` seconds old and the app has had no instance for
``grace`` seconds (the last instance's lapse time is kept in ``<prefix>instances:<app>``).
So a call that arrives while nobody listens, and every call of an app whose last instance went
away (websocket closed, or its gateway crashed), gets the same grace: enough for an instance to
reconnect and pick its calls up from the app's queue.

Redis (:mod:`ariscale_common.keyspace`): ``lock:grace`` is held for one sweep by the gateway doing it.
"""

import logging
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from ariscale_common.background import Periodic
from ariscale_common.keyspace import Keyspace
from gateway.events.calls import CallIndex
from gateway.events.instances import InstanceRegistry
from gateway.ownership import Kind, OwnershipStore

log = logging.getLogger(__name__)

HangUp = Callable[[str, str], Awaitable[None]]
"""``hang_up(node, channel id)``: hang the channel up on its node (a channel already gone is fine)."""


class GraceSweeper:
    def __init__(
        self,
        redis: Redis,
        keys: Keyspace,
        calls: CallIndex,
        registry: InstanceRegistry,
        ownership: OwnershipStore,
        hang_up: HangUp,
        grace: float,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._calls = calls
        self._registry = registry
        self._ownership = ownership
        self._hang_up = hang_up
        self.grace = grace
        self.interval = max(0.05, min(1.0, grace / 5))
        self.task = Periodic("grace-sweeper", self._sweep_once, self.interval)

    async def sweep(self) -> int:
        """One pass over every app with calls; returns how many calls were hung up."""
        lock = self._keys.grace_lock()
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

    async def _sweep_once(self) -> None:
        await self.sweep()
