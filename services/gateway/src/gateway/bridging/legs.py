"""Cross-node bridges: one link leg per (bridge, remote node), claimed atomically in Redis.

Joining member C on node X to bridge B homed on node A (see ``links`` for the vocabulary):

1. claim ``link:B:X`` in Redis (SET NX, with a TTL while building) — concurrent joiners, on any
   gateway, wait for the winner instead of opening a second leg;
2. on X create the local bridge ``ariscale-link-B``;
3. on A originate ``PJSIP/cluster/sip:link-B@<X's SIP address>`` into ``LINK_APP`` under our own
   channel id; X's dialplan sends it to ``Stasis(LINK_APP, B)``;
4. find X's end by its SIP Call-ID (``protocol_id`` is the same on both ends), answer it, put it
   in the local bridge; A's end enters Stasis once answered and joins B;
5. put C in the local bridge. Further members on X only need step 5.

The last member leaving X (or B being destroyed) tears the link down: hang up A's end (the SIP
BYE ends X's end) and destroy the local bridge. When X or A dies, :mod:`gateway.failover.detector` cleans
up what is left on the survivor, and re-homes B when A was its home (:mod:`gateway.failover.rehoming`).
"""

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ariscale_common.ari import AriError
from ariscale_common.dialplan import CLUSTER_ENDPOINT, LEG_CHANNEL_PREFIX, LINK_APP, LINK_EXTEN_PREFIX
from gateway.bridging.view import local_bridge_id
from gateway.nodes import Node, NodeClients
from gateway.redis_store import RedisStore

log = logging.getLogger(__name__)

BUILD_TTL_SECONDS = 15
# addChannel's "do not present this channel's identity to the others" (connected line, COLP).
INHIBIT_COLP = "inhibitConnectedLineUpdates"
# What describes a bridge (not its members) in Asterisk's snapshot.
DESCRIBING_FIELDS = ("technology", "bridge_type", "bridge_class", "creator", "name", "creationtime")
POLL_SECONDS = 0.01
# How long a leg's Call-ID stays marked when its link is never saved (the build failed).
LEG_CALL_MARK_S = 600


class LinkError(Exception):
    """A link leg could not be set up; the message says which step failed."""


@dataclass(frozen=True)
class Link:
    bridge_id: str
    home: str  # node id of the bridge
    remote: str  # node id of the members it carries
    home_leg: str  # channel id on the home node (ours)
    remote_leg: str  # channel id on the remote node (Asterisk's)
    # The bridge as its home node describes it (name, creationtime…), for events from member nodes.
    home_bridge: dict[str, Any] = field(default_factory=dict)
    call_id: str = ""  # SIP Call-ID of the leg: what Asterisk names as a member's BRIDGEPVTCALLID

    @property
    def local_bridge(self) -> str:
        return local_bridge_id(self.bridge_id)


class LinkStore(RedisStore):
    """``<prefix>link:<bridge>:<node>``: "building" while being set up, then the Link as JSON."""

    def _key(self, bridge_id: str, node_id: str) -> str:
        return self._keys.link(bridge_id, node_id)

    async def claim(self, bridge_id: str, node_id: str) -> bool:
        return bool(
            await self._redis.set(self._key(bridge_id, node_id), "building", nx=True, ex=BUILD_TTL_SECONDS)
        )

    async def raw(self, bridge_id: str, node_id: str) -> str | None:
        value = await self._redis.get(self._key(bridge_id, node_id))
        return value.decode() if isinstance(value, bytes) else value

    async def get(self, bridge_id: str, node_id: str) -> Link | None:
        raw = await self.raw(bridge_id, node_id)
        return Link(**json.loads(raw)) if raw and raw != "building" else None

    async def save(self, link: Link) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(link.bridge_id, link.remote), json.dumps(asdict(link)))
            if link.call_id:
                pipe.set(self._keys.leg_call(link.call_id), link.bridge_id)
            await pipe.execute()

    async def forget(self, bridge_id: str, node_id: str) -> None:
        link = await self.get(bridge_id, node_id)
        keys = [self._key(bridge_id, node_id)]
        if link is not None and link.call_id:
            keys.append(self._keys.leg_call(link.call_id))
        await self._redis.delete(*keys)

    async def mark_leg_call(self, call_id: str, bridge_id: str) -> None:
        """Known as a leg's from its first moment (``save`` keeps it; a failed build lets it expire)."""
        await self._redis.set(self._keys.leg_call(call_id), bridge_id, ex=LEG_CALL_MARK_S)

    async def is_leg_call(self, call_id: str) -> bool:
        return bool(await self._redis.exists(self._keys.leg_call(call_id)))

    async def of_bridge(self, bridge_id: str) -> list[Link]:
        return await self._matching(self._key(bridge_id, "*"))

    async def involving(self, node_id: str) -> list[Link]:
        """Every link whose home or remote end is on ``node_id`` (a scan: for failover only)."""
        return [link for link in await self.every() if node_id in (link.home, link.remote)]

    async def every(self) -> list[Link]:
        """Every link leg set up, on any node (a scan: for failover and metrics)."""
        return await self._matching(self._key("*", "*"))

    async def _matching(self, pattern: str) -> list[Link]:
        links = []
        async for key in self._redis.scan_iter(match=pattern, count=200):
            raw = await self._redis.get(key)
            if raw and raw != b"building":
                links.append(Link(**json.loads(raw)))
        return links


class Linker:
    def __init__(self, store: LinkStore, nodes: NodeClients, timeout: float = 10.0) -> None:
        self._store = store
        self._nodes = nodes
        self._timeout = timeout

    async def join(
        self, bridge_id: str, home: Node, remote: Node, channel_ids: list[str], extra: list[tuple[str, str]]
    ) -> None:
        """Put ``channel_ids`` (all on ``remote``) into ``bridge_id`` (homed on ``home``)."""
        link = await self.ensure_link(bridge_id, home, remote)
        # Alone with the leg, a member would be handed the leg's caller id as its connected line.
        params = [(k, v) for k, v in extra if k != INHIBIT_COLP] + [(INHIBIT_COLP, "true")]
        await self._nodes.client(remote).post(
            f"/bridges/{link.local_bridge}/addChannel", params=[("channel", ",".join(channel_ids)), *params]
        )

    async def leave(self, bridge_id: str, remote: Node, channel_ids: list[str]) -> None:
        await self._nodes.client(remote).post(
            f"/bridges/{local_bridge_id(bridge_id)}/removeChannel", params={"channel": ",".join(channel_ids)}
        )
        await self.unlink_if_unused(bridge_id, remote.node_id)

    async def ensure_link(self, bridge_id: str, home: Node, remote: Node) -> Link:
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            link = await self._store.get(bridge_id, remote.node_id)
            if link is not None:
                return link
            if await self._store.claim(bridge_id, remote.node_id):
                try:
                    link = await self._build_with_retry(bridge_id, home, remote)
                except (AriError, LinkError) as exc:
                    await self._store.forget(bridge_id, remote.node_id)
                    raise LinkError(f"linking bridge {bridge_id} to node {remote.node_id}: {exc}") from exc
                await self._store.save(link)
                return link
            await asyncio.sleep(POLL_SECONDS)  # another joiner is building it
        raise LinkError(f"timed out waiting for the link of bridge {bridge_id} to node {remote.node_id}")

    async def _build_with_retry(self, bridge_id: str, home: Node, remote: Node) -> Link:
        """One more attempt after a failed one: a SIP leg can fail for passing reasons."""
        try:
            return await self._build(bridge_id, home, remote)
        except (AriError, LinkError) as exc:
            log.warning(
                "linking bridge %s to node %s failed (%s); trying once more", bridge_id, remote.node_id, exc
            )
            return await self._build(bridge_id, home, remote)

    async def _build(self, bridge_id: str, home: Node, remote: Node) -> Link:
        home_leg = f"{LEG_CHANNEL_PREFIX}{uuid.uuid4().hex[:12]}"
        try:
            return await self._build_leg(bridge_id, home, remote, home_leg)
        except (AriError, LinkError):
            # Leave no half-built leg behind: hanging up our end ends the far end too (SIP BYE).
            await _ignore_missing(self._nodes.client(home).delete(f"/channels/{home_leg}"))
            raise

    async def _build_leg(self, bridge_id: str, home: Node, remote: Node, home_leg: str) -> Link:
        started = time.monotonic()
        home_ari, remote_ari = self._nodes.client(home), self._nodes.client(remote)
        local = local_bridge_id(bridge_id)
        try:
            await remote_ari.post(f"/bridges/{local}", params={"type": "mixing", "name": bridge_id})
        except AriError as exc:
            if exc.status != 409:  # 409: left from a link torn down a moment ago; reuse it
                raise
        target = f"sip:{LINK_EXTEN_PREFIX}{bridge_id}@{remote.sip_address}"
        leg = await home_ari.post(
            "/channels",
            params={
                "endpoint": f"PJSIP/{CLUSTER_ENDPOINT}/{target}",
                "app": LINK_APP,
                "appArgs": bridge_id,
                "channelId": home_leg,
            },
        )
        # Members are told the leg's Call-ID (BRIDGEPVTCALLID) as soon as it joins a bridge, before
        # the link is saved: the events that carry it must already know it is a leg's.
        await self._store.mark_leg_call(str(leg["protocol_id"]), bridge_id)
        remote_leg = await self._remote_end(remote, str(leg["protocol_id"]))
        await remote_ari.post(f"/channels/{remote_leg}/answer")
        # A leg's caller id must not reach the members as a connected line ("Anonymous").
        hidden = {INHIBIT_COLP: "true"}
        await remote_ari.post(f"/bridges/{local}/addChannel", params={"channel": remote_leg, **hidden})
        # The home end enters Stasis only once answered: retry until the bridge accepts it.
        await self._retry(
            lambda: home_ari.post(f"/bridges/{bridge_id}/addChannel", params={"channel": home_leg, **hidden})
        )
        home_bridge = await home_ari.get(f"/bridges/{bridge_id}")
        elapsed_ms = 1000 * (time.monotonic() - started)
        log.info(
            "linked bridge %s (home %s) to node %s: legs %s / %s in %.0f ms",
            bridge_id, home.node_id, remote.node_id, home_leg, remote_leg, elapsed_ms,
        )  # fmt: skip
        described = {k: home_bridge[k] for k in DESCRIBING_FIELDS if k in home_bridge}
        return Link(
            bridge_id, home.node_id, remote.node_id, home_leg, remote_leg, described, str(leg["protocol_id"])
        )

    async def _remote_end(self, remote: Node, protocol_id: str) -> str:
        """X's end of the leg: the channel with the same SIP Call-ID."""
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            for channel in await self._nodes.client(remote).get("/channels"):
                if channel.get("protocol_id") == protocol_id:
                    return str(channel["id"])
            await asyncio.sleep(POLL_SECONDS)
        raise LinkError(f"the leg's far end (Call-ID {protocol_id}) never reached node {remote.node_id}")

    async def _retry(self, attempt: Callable[[], Awaitable[object]]) -> None:
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                await attempt()
                return
            except AriError as exc:
                if exc.status not in (409, 422) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(POLL_SECONDS)

    async def unlink_if_unused(self, bridge_id: str, node_id: str) -> bool:
        """Tear the link down when its local bridge holds nothing but the leg."""
        link = await self._store.get(bridge_id, node_id)
        remote = self._nodes.node(node_id)
        if link is None or remote is None:
            return False
        try:
            local = await self._nodes.client(remote).get(f"/bridges/{link.local_bridge}")
        except AriError:
            local = {"channels": []}
        if [c for c in local.get("channels", []) if c != link.remote_leg]:
            return False
        await self.unlink(link)
        return True

    async def unlink(self, link: Link) -> None:
        home, remote = self._nodes.node(link.home), self._nodes.node(link.remote)
        if home is not None:
            await _ignore_missing(self._nodes.client(home).delete(f"/channels/{link.home_leg}"))
        if remote is not None:
            await _ignore_missing(self._nodes.client(remote).delete(f"/channels/{link.remote_leg}"))
            await _ignore_missing(self._nodes.client(remote).delete(f"/bridges/{link.local_bridge}"))
        await self._store.forget(link.bridge_id, link.remote)
        log.info("unlinked bridge %s from node %s", link.bridge_id, link.remote)

    async def forget(self, link: Link) -> None:
        """Drop the record only: its legs are someone else's to hang up (or died with a node)."""
        await self._store.forget(link.bridge_id, link.remote)

    async def involving(self, node_id: str) -> list[Link]:
        return await self._store.involving(node_id)

    async def unlink_all(self, bridge_id: str) -> None:
        for link in await self._store.of_bridge(bridge_id):
            await self.unlink(link)

    async def open_links(self) -> list[Link]:
        """Every link leg of the cluster (a Redis scan)."""
        return await self._store.every()

    async def links(self, bridge_id: str) -> list[Link]:
        return await self._store.of_bridge(bridge_id)

    async def is_leg_call(self, call_id: str) -> bool:
        return await self._store.is_leg_call(call_id)


async def _ignore_missing(call: Awaitable[object]) -> None:
    """A teardown step that finds its leg or bridge gone, or going: someone else tore it down.

    409 is Asterisk's "Bridge not in Stasis application" for a bridge another request is destroying
    at that moment (a link's last member hanging up tears it down from the events while the app
    deletes the bridge: seen on a loaded CI run, as a 503 for the app's DELETE)."""
    try:
        await call
    except AriError as exc:
        if exc.status not in (None, 404, 409):
            raise
