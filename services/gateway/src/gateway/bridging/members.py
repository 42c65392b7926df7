"""Who is in which bridge on which node, as the nodes last reported it (Redis).

A node that dies can no longer say which of its channels were in a bridge, so the tracker
(:mod:`gateway.events.tracking`) keeps the answer from every node's ``ChannelEnteredBridge`` and
``ChannelLeftBridge``: the app's members only (never link legs), keyed by the bridge as the node
knows it: the app's bridge ``B`` on its home, the local bridge ``ariscale-link-B`` on a member
node (so a channel moved from one to the other on the same node, as rehoming does, is never
confused by the order of the two events). Failover (:mod:`gateway.failover.detector`) reads it to tell
the app who left, with the channel and bridge exactly as Asterisk last described them.

Rehoming moves a bridge's surviving members from their local bridge into the bridge itself on
its new home; Asterisk reports that as leaving one and entering the other, which the app must not
see (for the app they never left). The move is marked first, and the app's view drops the two
events of each marked channel (:meth:`BridgeMembers.hides`).

``<prefix>members:<node's bridge id>:<node>`` — hash: channel id → ``{"app", "channel", "bridge"}``
(JSON).
``<prefix>moving:<bridge>`` — set of channel ids being moved into ``<bridge>`` (``MOVE_TTL_S``).
"""

import json
from dataclasses import dataclass
from typing import Any

from gateway.bridging.view import app_bridge_id
from gateway.redis_store import RedisStore

MOVE_TTL_S = 60


@dataclass(frozen=True)
class Member:
    """One app channel in a bridge on one node, with Asterisk's last snapshots of both."""

    app: str
    channel: dict[str, Any]
    bridge: dict[str, Any]  # the bridge it sits in on its node: the app's, or the local one

    @property
    def channel_id(self) -> str:
        return str(self.channel["id"])

    def encode(self) -> str:
        return json.dumps({"app": self.app, "channel": self.channel, "bridge": self.bridge})

    @classmethod
    def decode(cls, raw: str | bytes) -> "Member":
        data = json.loads(raw)
        return cls(app=str(data["app"]), channel=dict(data["channel"]), bridge=dict(data["bridge"]))


class BridgeMembers(RedisStore):
    def _key(self, bridge_id: str, node_id: str) -> str:
        return self._keys.members(bridge_id, node_id)

    async def entered(self, bridge_id: str, node_id: str, member: Member) -> None:
        await self._redis.hset(self._key(bridge_id, node_id), member.channel_id, member.encode())

    async def left(self, bridge_id: str, node_id: str, channel_id: str) -> None:
        await self._redis.hdel(self._key(bridge_id, node_id), channel_id)

    async def on_node(self, bridge_id: str, node_id: str) -> list[Member]:
        raws = await self._redis.hvals(self._key(bridge_id, node_id))
        return sorted((Member.decode(raw) for raw in raws), key=lambda m: m.channel_id)

    async def bridges_on(self, node_id: str) -> list[str]:
        """Bridges with members recorded on ``node_id`` (a scan: for failover only)."""
        head, tail = len(self._key("", "")) - 1, len(node_id) + 1
        found = []
        async for key in self._redis.scan_iter(match=self._key("*", node_id), count=200):
            name = key.decode() if isinstance(key, bytes) else str(key)
            found.append(name[head:-tail])
        return sorted(found)

    async def forget(self, bridge_id: str, node_id: str) -> None:
        await self._redis.delete(self._key(bridge_id, node_id))

    def _moving_key(self, bridge_id: str) -> str:
        return self._keys.moving(bridge_id)

    async def moving(self, bridge_id: str, channel_ids: list[str]) -> None:
        """``channel_ids`` are about to move from ``bridge_id``'s local bridge into the bridge."""
        if channel_ids:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.sadd(self._moving_key(bridge_id), *channel_ids)
                pipe.expire(self._moving_key(bridge_id), MOVE_TTL_S)
                await pipe.execute()

    async def hides(self, event_type: str, node_bridge: str, channel_id: str) -> bool:
        """Whether this membership event is only a marked move (leaving the local bridge, then
        entering the bridge: the entry ends the mark)."""
        local_of = app_bridge_id(node_bridge)
        if event_type == "ChannelLeftBridge" and local_of is not None:
            return bool(await self._redis.sismember(self._moving_key(local_of), channel_id))
        if event_type == "ChannelEnteredBridge" and local_of is None:
            return bool(await self._redis.srem(self._moving_key(node_bridge), channel_id))
        return False
