"""Which instance of an app gets an event: one instance per call, every event of a call to it.

Each event is keyed by the call it belongs to (:func:`ariscale_common.calls.call_of`, the rule the
app SDK orders its handlers by too): a channel's call, or a bridge's own events sticky to one
instance per bridge exactly like a channel's, so they stay in order too. Events of no call
(``DeviceStateChanged``…) go to the first live instance in id order, so they stay in order as long
as the set of instances does not change.

The first event of a key assigns it (round robin over the app's live instances, so new calls
spread evenly); the assignment is sticky and lives in Redis so that whichever gateway is the
app's dispatcher after a failover keeps it:

* ``assign:<app>:<key>`` (:mod:`ariscale_common.keyspace`) → instance id, renewed by every event
  (``ASSIGN_TTL``), cut to ``ENDED_TTL`` by the call's last events (``LAST_EVENTS``, in whatever
  order Asterisk sends them: the stragglers still reach the same instance).
* ``turn:<app>`` → round-robin counter.

An assignment to an instance that is no longer live moves to a live one on the call's next event.
Only one gateway dispatches an app at a time (its queue has a single active consumer), so these
keys have a single writer.
"""

import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from ariscale_common.calls import LAST_EVENTS, call_of
from ariscale_common.keyspace import Keyspace
from gateway.events.instances import InstanceRegistry, Instances, as_str, gateway_of
from gateway.events.lanes import Retry
from gateway.redis_store import RedisStore

log = logging.getLogger(__name__)

ASSIGN_TTL = 24 * 3600
ENDED_TTL = 60


class NoLiveInstance(Retry):
    """The app has no live instance to take the event: leave it queued."""


@dataclass(frozen=True)
class Forward:
    """Hand the event to ``instance`` through its gateway's own queue."""

    gateway: str
    instance: str


def choose_instance(live: Sequence[str], turn: int) -> str:
    """Round robin over the live instances in id order (``turn`` counts assignments)."""
    if not live:
        raise NoLiveInstance("no live instance")
    ordered = sorted(live)
    return ordered[turn % len(ordered)]


class Assignments(RedisStore):
    """Sticky call → instance assignments of every app (Redis)."""

    def __init__(self, redis: Redis, keys: Keyspace, registry: InstanceRegistry) -> None:
        super().__init__(redis, keys)
        self._registry = registry

    def _key(self, app: str, key: str) -> str:
        return self._keys.assignment(app, key)

    async def target(self, app: str, key: str | None, avoid: set[str]) -> str:
        """The instance that gets ``key``'s events; assigns one when there is none (live)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(self._registry.key(app), f"({time.time()}", "+inf")
            if key is not None:
                pipe.getex(self._key(app, key), ex=ASSIGN_TTL)
            answers = await pipe.execute()
        live = sorted(as_str(m) for m in answers[0] if as_str(m) not in avoid)
        if not live:
            raise NoLiveInstance(f"app {app}: no live instance")
        if key is None:
            return live[0]
        current = as_str(answers[1]) if answers[1] is not None else None
        if current in live:
            return current
        choice = choose_instance(live, int(await self._redis.incr(self._keys.turn(app))))
        await self._redis.set(self._key(app, key), choice, ex=ASSIGN_TTL)
        if current is not None:
            log.info("app %s: %s moves from instance %s to %s", app, key, current, choice)
        return choice

    async def ending(self, app: str, key: str) -> None:
        await self._redis.expire(self._key(app, key), ENDED_TTL)


class Dispatcher:
    """Delivers one event of an app: to a websocket here, or names the gateway to forward it to."""

    def __init__(
        self,
        assignments: Assignments,
        instances: Instances,
        view: Callable[[str, str | None, dict[str, Any]], Awaitable[dict[str, Any] | None]] | None = None,
    ) -> None:
        self._assignments = assignments
        self._instances = instances
        # What the app may see of an event (link legs, local bridges and other apps' channels
        # hidden); None: drop it.
        self._view = view

    async def dispatch(
        self, app: str, body: bytes, avoid: str | None = None, node: str | None = None
    ) -> Forward | None:
        """None when delivered here (or undeliverable junk); raises NoLiveInstance to keep it queued.

        ``avoid`` names an instance the event already bounced from (gone from its gateway);
        ``node`` the node that sent the event.
        """
        try:
            event = json.loads(body)
            text = body.decode()
        except ValueError:
            log.warning("app %s: dropped an event that is not JSON: %r", app, body[:200])
            return None
        if not isinstance(event, dict):
            log.warning("app %s: dropped an event that is not a JSON object: %r", app, body[:200])
            return None
        if self._view is not None:
            seen = await self._view(app, node, event)
            if seen is None:
                return None
            if seen is not event:
                event, text = seen, json.dumps(seen)
        key = call_of(event)
        avoided = {avoid} if avoid else set()
        while True:
            try:
                target = await self._assignments.target(app, key, avoided)
            except NoLiveInstance:
                if avoid is None or avoid not in avoided:
                    raise
                avoided.discard(avoid)  # it bounced from there, yet it is the only one listed: retry it
                continue
            if gateway_of(target) != self._instances.gateway_id:
                forward: Forward | None = Forward(gateway_of(target), target)
                break
            local = self._instances.local(target)
            if local is not None and await local.send(text):
                forward = None
                break
            # Ours but gone (closed, or left by an earlier run of this gateway): drop it, pick again.
            avoided.add(target)
            if local is not None:
                await self._instances.detach(local)
            else:
                await self._instances.registry.remove(app, target)
        if key is not None and event.get("type") in LAST_EVENTS:
            await self._assignments.ending(app, key)
        return forward

    async def deliver(self, app: str, instance_id: str, body: bytes) -> bool:
        """Write an event another gateway forwarded to ``instance_id``; False when it is gone."""
        local = self._instances.local(instance_id)
        if local is None or local.app != app:
            return False
        if await local.send(body.decode(errors="replace")):
            return True
        await self._instances.detach(local)
        return False
