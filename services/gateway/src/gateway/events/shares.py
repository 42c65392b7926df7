"""Each gateway's share of the nodes' ownership queues, so no one gateway tracks the whole cluster.

Every gateway process renews itself in ``gateways`` (:mod:`ariscale_common.keyspace`) every
``heartbeat`` seconds and counts as live for ``ttl``. Each node's queue goes to the live gateway
with the highest rendezvous score for that node (:func:`share_of`): every gateway computes the
same answer from the same list, a gateway that joins or leaves moves only its own nodes, and each
node's events stay with one gateway at a time (the queue also has a single active consumer, so
two gateways that disagree for a moment never handle one node's events at once).

A node that leaves this gateway's share stays consumed here for ``ttl`` seconds more
(:class:`Handover`): the gateway it goes to subscribes at its next turn and, the queue having a
single active consumer, takes over the moment this one lets go, with no gap; if that gateway is
gone again meanwhile (a process started and stopped at once), the node simply stays here. A
gateway that stops leaves the list at once; the others take its nodes at their next turn (within
``heartbeat``), the nodes' events waiting in their queues until then.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Iterable

from redis.asyncio import Redis

from ariscale_common.background import Periodic
from ariscale_common.keyspace import Keyspace
from gateway.redis_store import RedisStore, as_str

log = logging.getLogger(__name__)

_FORGET_AFTER_S = 3600.0  # a gateway gone this long leaves the list
# A node that left Consul (its agent stopped) keeps its queue consumed this long: the last events
# of its calls may still be on their way.
LINGER_S = 600.0


def _score(gateway_id: str, node_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{gateway_id}\n{node_id}".encode(), digest_size=8).digest())


def share_of(gateway_id: str, live: Iterable[str], nodes: Iterable[str]) -> set[str]:
    """The nodes whose ownership queue ``gateway_id`` consumes among the ``live`` gateways."""
    gateways = sorted(set(live) | {gateway_id})
    return {n for n in nodes if max(gateways, key=lambda g: _score(g, n)) == gateway_id}


class RecentNodes:
    """The nodes in Consul now, and those that left it less than ``linger`` seconds ago."""

    def __init__(self, linger: float = LINGER_S) -> None:
        self._linger = linger
        self._seen: dict[str, float] = {}  # node -> when it was last in Consul

    def update(self, current: Iterable[str], now: float) -> set[str]:
        self._seen.update(dict.fromkeys(current, now))
        self._seen = {node: seen for node, seen in self._seen.items() if now - seen < self._linger}
        return set(self._seen)


class Handover:
    """The nodes to consume: the share, and those that left it less than ``grace`` seconds ago
    (whoever takes them over has subscribed by then)."""

    def __init__(self, grace: float) -> None:
        self._grace = grace
        self._share: set[str] = set()
        self._until: dict[str, float] = {}  # node leaving the share -> when to let it go

    def consumed(self, share: set[str], now: float) -> set[str]:
        for node in self._share - share:
            self._until.setdefault(node, now + self._grace)
        self._until = {
            node: until for node, until in self._until.items() if until > now and node not in share
        }
        self._share = set(share)
        return share | set(self._until)


class OwnershipShares(RedisStore):
    """Keeps this gateway listed as live and hands the bus worker its share of the nodes."""

    def __init__(
        self,
        redis: Redis,
        keys: Keyspace,
        gateway_id: str,
        nodes: Callable[[], Iterable[str]],
        take: Callable[[set[str], set[str]], None],
        heartbeat: float,
        ttl: float,
    ) -> None:
        super().__init__(redis, keys)
        self._gateway_id = gateway_id
        self._nodes = nodes  # every node known (healthy or not): a dead node's events still count
        self._take = take  # (share, every node) -> the bus worker
        self._ttl = ttl
        self._share: set[str] | None = None
        self._consumed: set[str] = set()
        self._handover = Handover(grace=ttl)
        self._recent = RecentNodes()
        self._task = Periodic("ownership-shares", self.renew, heartbeat)

    @property
    def share(self) -> set[str]:
        """The nodes whose ownership queue this gateway consumes now (its share, and the nodes it
        is handing over)."""
        return set(self._consumed)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        """Leave the list at once, so the other gateways take this one's nodes now."""
        await self._task.stop()
        try:
            await self._redis.zrem(self._keys.gateways(), self._gateway_id)
        except Exception as exc:  # Redis away: the others take over when the lease lapses
            log.warning("gateway %s stays listed until its lease lapses: %r", self._gateway_id, exc)

    async def renew(self) -> None:
        """One turn: renew the lease, read who is live, and hand on this gateway's share.
        With Redis away, the share stays as it was (the queues' single consumer keeps order)."""
        now = time.time()
        key = self._keys.gateways()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {self._gateway_id: now + self._ttl})
            pipe.zrangebyscore(key, f"({now}", "+inf")
            pipe.zremrangebyscore(key, "-inf", now - _FORGET_AFTER_S)
            _, members, _ = await pipe.execute()
        nodes = self._recent.update(self._nodes(), time.monotonic())
        share = share_of(self._gateway_id, (as_str(m) for m in members), nodes)
        consumed = self._handover.consumed(share, time.monotonic())
        if share != self._share or consumed != self._consumed:
            leaving = (
                f"; hands {sorted(consumed - share)} over within {self._ttl:g} s" if consumed - share else ""
            )
            log.info("gateway %s tracks the ownership of nodes %s (%d gateways live)%s",
                     self._gateway_id, sorted(share), len(members), leaving)  # fmt: skip
        self._share, self._consumed = share, consumed
        self._take(consumed, nodes)
