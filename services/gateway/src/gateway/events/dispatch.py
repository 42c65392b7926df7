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
Choosing the instance, numbering the event and logging it is one Redis round trip
(:meth:`gateway.events.sequence.EventLog.stamp`). Only one gateway dispatches an app at a time
(its queue has a single active consumer), so these keys have a single writer.
"""

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ariscale_common import fast_json
from ariscale_common.calls import LAST_EVENTS, call_of
from gateway.events.instances import Instances, gateway_of
from gateway.events.lanes import Retry
from gateway.events.sequence import RESTARTED, EventLog, Stamped, ToStamp, with_seq

log = logging.getLogger(__name__)


class NoLiveInstance(Retry):
    """The app has no live instance to take the event: leave it queued."""


@dataclass(frozen=True)
class Forward:
    """Hand the event (as the app sees it, without its number) to ``instance`` through its
    gateway's own queue, numbered ``seq`` in the app's count ``epoch``."""

    gateway: str
    instance: str
    text: str
    seq: int
    epoch: str | None = None


class Dispatcher:
    """Delivers one event of an app: to a websocket here, or names the gateway to forward it to."""

    def __init__(
        self,
        events: EventLog,
        instances: Instances,
        view: Callable[[str, str | None, dict[str, Any]], Awaitable[dict[str, Any] | None]] | None = None,
    ) -> None:
        self._events = events
        self._instances = instances
        # What the app may see of an event (link legs, local bridges and other apps' channels
        # hidden); None: drop it.
        self._view = view

    async def dispatch_many(
        self,
        app: str,
        events: Sequence[tuple[bytes, str | None]],
        avoid: str | None = None,
        node: str | None = None,
    ) -> list[Forward | None]:
        """Delivers the events of one bus message (body, event id), in order, numbered in one Redis
        round trip. For each: None when delivered here (or junk, or hidden from the app), else where
        to forward it. Raises NoLiveInstance to keep the message queued.

        ``avoid`` names an instance the event already bounced from (gone from its gateway): its
        body is then the app's view already. An event id (the bus message's) keeps the event's
        number when the bus delivers it again; ``node`` is the node that sent the events.
        """
        prepared = [await self._prepare(app, body, event_id, avoid, node) for body, event_id in events]
        pending = [p for p in prepared if p is not None]
        numbered: Sequence[Stamped | None] = [None] * len(pending)  # None: numbered in _place
        if pending and avoid is None:  # a bounced event (avoid) takes the careful path of _place
            stamped = await self._events.stamp_many(app, pending, now=time.time())
            if stamped is None:
                raise NoLiveInstance(f"app {app}: no live instance")
            numbered = stamped
        stamps = iter(numbered)
        return [await self._place(app, p, avoid, next(stamps)) if p is not None else None for p in prepared]

    async def _prepare(
        self, app: str, body: bytes, event_id: str | None, avoid: str | None, node: str | None
    ) -> ToStamp | None:
        """The event as the app sees it, ready to number; None for junk and hidden events."""
        try:
            event = fast_json.loads(body)
            text = body.decode()
        except ValueError:
            log.warning("app %s: dropped an event that is not JSON: %r", app, body[:200])
            return None
        if not isinstance(event, dict):
            log.warning("app %s: dropped an event that is not a JSON object: %r", app, body[:200])
            return None
        if self._view is not None and avoid is None:
            seen = await self._view(app, node, event)
            if seen is None:
                return None
            if seen is not event:
                event, text = seen, fast_json.dumps(seen)
        ending = event.get("type") in LAST_EVENTS
        return ToStamp(call_of(event), text, event_id, ending)

    async def _place(
        self, app: str, event: ToStamp, avoid: str | None, stamped: Stamped | None
    ) -> Forward | None:
        """Hand a numbered event (``stamped``; None: number it now) to its instance: written here,
        or returned to forward. An instance of ours that is gone is dropped and another picked."""
        avoided = {avoid} if avoid else set()
        while True:
            if stamped is None:
                stamped = await self._events.stamp(
                    app, event.call, event.text, event_id=event.event_id, avoid=avoided, ending=event.ending,
                    now=time.time(),
                )  # fmt: skip
            if stamped is None:
                if avoid is None or avoid not in avoided:
                    raise NoLiveInstance(f"app {app}: no live instance")
                avoided.discard(avoid)  # it bounced from there, yet it is the only one listed: retry it
                continue
            target, logged = stamped.instance, stamped.text if stamped.text is not None else event.text
            if stamped.previous is not None:
                log.info("app %s: %s moves from instance %s to %s", app, event.call, stamped.previous, target)
            if gateway_of(target) != self._instances.gateway_id:
                return Forward(gateway_of(target), target, logged, stamped.seq, stamped.epoch)
            local = self._instances.local(target)
            numbered = with_seq(logged, stamped.seq)
            if local is not None and await local.send_event(numbered, stamped.seq, stamped.epoch):
                return None
            if local is not None and local.close_reason == RESTARTED:
                self._instances.restarted(app, stamped.epoch)
            # Ours but gone (closed, or left by an earlier run of this gateway): drop it, pick again.
            avoided.add(target)
            stamped = None
            if local is not None:
                await self._instances.detach(local)
            else:
                await self._instances.registry.remove(app, target)

    async def deliver(
        self, app: str, instance_id: str, body: bytes, seq: int | None, epoch: str | None = None
    ) -> bool:
        """Write an event another gateway forwarded to ``instance_id``; False when it is gone (or
        closed now: numbered in a count other than its own)."""
        local = self._instances.local(instance_id)
        if local is None or local.app != app:
            return False
        text = body.decode(errors="replace")
        if seq is None:  # from a gateway that does not number events yet
            sent = await local.send(text)
        else:
            sent = await local.send_event(with_seq(text, seq), seq, epoch)
        if sent:
            return True
        if local.close_reason == RESTARTED:
            self._instances.restarted(app, epoch)
        await self._instances.detach(local)
        return False
