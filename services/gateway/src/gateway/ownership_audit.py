"""Channels Asterisk no longer has but whose end never came: ended for their apps, then forgotten.

Redis is a cache and Asterisk the truth. An entry outlives its channel when the end event never
comes (a node agent killed while its calls hung up: Asterisk does not replay what it sent to
nobody; an app removed while its calls lived on; a gateway killed between a node's answer and its
record). Left alone, the app would wait for the call's end for ever, the call index would keep it
and placement would count it. Every ``interval`` one gateway (a lock) compares each healthy node's
index with the node's own channel list. What the node no longer has and was recorded at least
``SETTLE_S`` before the node was asked (younger entries may be channels still being created) is a
suspect; ``CONFIRM_S`` later, the suspects whose entries are still there (their real end events
did not turn up meanwhile) are forgotten and their end announced through the stand-in notifier,
``StasisEnd`` then ``ChannelDestroyed`` under the node's routing keys, as the node would have
sent them: the app hears the end, the tracker drops the call index and the assignment.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from ariscale_common.ari import AriError
from ariscale_common.background import Periodic
from ariscale_common.dialplan import LINK_APP
from gateway.failover.departures import ENDED_UNHEARD, ari_timestamp, channel_departure
from gateway.failover.notifier import StandInNotifier
from gateway.nodes import Node, NodeClients
from gateway.ownership import Kind, Owner, OwnershipStore

log = logging.getLogger(__name__)

SETTLE_S = 10.0
# An end event still on its way (agent → RabbitMQ → the tracker's queue) takes far less than this;
# one slower than this reaches the app after ours, and the app hears the end twice.
CONFIRM_S = 3.0


@dataclass(frozen=True)
class Suspects:
    """Recorded channels of one node that the node did not list."""

    node_id: str
    channels: list[str]


@dataclass
class OwnershipAudit:
    ownership: OwnershipStore
    nodes: NodeClients
    notifier: StandInNotifier  # how the ends nobody heard reach the app
    interval: float

    def __post_init__(self) -> None:
        self.task = Periodic("ownership-audit", self.audit, self.interval, first_delay=self.interval)

    async def audit(self) -> None:
        """One pass over every healthy node, unless another gateway is auditing."""
        if not await self.ownership.take_audit_turn(self.task.interval * 0.9):
            return
        found = [s for node in self.nodes.healthy() if (s := await self.suspects(node)).channels]
        if found:
            await asyncio.sleep(CONFIRM_S)
        for suspects in found:
            await self.end_unheard(suspects)

    async def restarted(self, node: Node) -> int:
        """``node``'s Asterisk restarted (a new start time): the channels recorded before that
        start which it does not list are gone with the old process; ended now, not at the next pass."""
        since = _epoch(node.started)
        if since is None:
            return 0
        suspects = await self.suspects(node, since)
        if not suspects.channels:
            return 0
        await asyncio.sleep(CONFIRM_S)
        return await self.end_unheard(suspects)

    async def suspects(self, node: Node, recorded_before: float | None = None) -> Suspects:
        """The node's channels recorded long enough ago (or before ``recorded_before``, epoch s)
        that the node no longer lists."""
        asked_at = time.time()
        try:
            live = {str(c["id"]) for c in await self.nodes.client(node).get("/channels")}
        except (AriError, KeyError, TypeError):
            return Suspects(node.node_id, [])  # a node that cannot answer now is the failover detector's
        before = asked_at - SETTLE_S if recorded_before is None else recorded_before
        recorded = await self.ownership.channels_recorded_before(node.node_id, before)
        return Suspects(node.node_id, [channel for channel in recorded if channel not in live])

    async def end_unheard(self, suspects: Suspects) -> int:
        """Forget the suspects still recorded and announce their end to their apps; how many went."""
        forgotten = await self.ownership.forget_stale_channels(suspects.node_id, suspects.channels)
        # The link app's legs are the linking code's business: no app waits for their end.
        ended = {c: owner for c, owner in sorted(forgotten.items()) if owner.app != LINK_APP}
        timestamp = ari_timestamp()
        events = [e for c, o in ended.items() for e in channel_departure(o.app, c, timestamp, ENDED_UNHEARD)]
        try:
            await self.notifier.publish(suspects.node_id, events)
        except Exception:
            await self._record_again(ended)  # so that a later audit announces them
            raise
        if forgotten:
            log.warning(
                "node %s no longer has %d recorded channel(s) whose end never came: ended for the apps (%s)",
                suspects.node_id, len(forgotten), ", ".join(list(forgotten)[:5]),
            )  # fmt: skip
        return len(forgotten)

    async def _record_again(self, owners: dict[str, Owner]) -> None:
        for channel_id, owner in owners.items():
            await self.ownership.set(Kind.CHANNEL, channel_id, owner)


def _epoch(ari_time: str) -> float | None:
    """Seconds since the epoch of an ARI time (``2026-11-29T15:00:00.123+0000``); None if unreadable."""
    try:
        parsed = datetime.fromisoformat(ari_time)
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None
