"""A node died: tell the apps what it can no longer tell them, and carry its bridges elsewhere.

Detection. Every gateway follows Consul's view of the nodes (:class:`ConsulWatch`, which hears of a
change at once; a node agent fails its node's check as soon as ARI stops answering). A node that is
critical, or gone from the catalog, is an *incident*; one gateway handles it:

* :class:`~gateway.failover.incidents.Incidents` makes sure one gateway handles it, once.

Before acting, the gateway asks the node's ARI itself: a node whose Asterisk still answers
(its agent died, say) keeps its calls, and nothing is done.

A node whose Asterisk *restarted* (a new start time, reported by its agent in Consul, or
answered by the probe) may never have looked dead: its old process's channels are gone all the
same. The ownership audit ends them for their apps at once (``on_restart``) instead of at its
next pass; every gateway sees the restart, and the audit forgets each channel once.

Recovery of dead node D (:meth:`NodeFailover.recover`), in this order:

1. bridges homed on D move to a surviving member node (:mod:`gateway.failover.rehoming`), or, with no
   member left anywhere, are announced destroyed;
2. every member D had in any bridge leaves it, as the app sees it: ``ChannelLeftBridge`` then
   ``StasisEnd`` and ``ChannelDestroyed``, published under D's routing keys
   (:mod:`gateway.failover.departures`, :mod:`gateway.failover.notifier`), so they reach the tracker and the
   app's dispatcher like any event of D;
3. D's other channels end as the app sees it (``StasisEnd``, ``ChannelDestroyed``);
4. link legs to D are torn down on their home nodes;
5. D's ownership entries are dropped.

Every step is idempotent: an incident taken over after a gateway died mid-way is simply redone.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from ariscale_common.ari import AriError
from ariscale_common.background import Periodic
from ariscale_common.dialplan import LINK_APP
from gateway.bridging.legs import Link, Linker
from gateway.bridging.members import BridgeMembers
from gateway.bridging.view import app_bridge_id
from gateway.consul_watch import ConsulWatch
from gateway.failover.departures import ari_timestamp, bridge_destroyed, channel_departure, members_departure
from gateway.failover.incidents import RETRY_AFTER_S, Incidents
from gateway.failover.notifier import StandInNotifier
from gateway.failover.rehoming import Rehoming
from gateway.nodes import Node, NodeClients
from gateway.ownership import Kind, OwnershipStore

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0


def dead_nodes(known: dict[str, Node], current: dict[str, Node]) -> list[Node]:
    """Nodes seen before that are now critical or gone from the catalog."""
    gone = [node for node_id, node in known.items() if node_id not in current]
    critical = [node for node in current.values() if not node.healthy]
    return sorted(gone + critical, key=lambda n: n.node_id)


def restarted_nodes(known: dict[str, Node], current: dict[str, Node]) -> list[Node]:
    """Healthy nodes whose Asterisk reports another start time than the one seen before."""
    return sorted(
        (
            node
            for node_id, node in current.items()
            if node.healthy and node.started and known.get(node_id, node).started not in ("", node.started)
        ),
        key=lambda n: n.node_id,
    )


def split_links(links: list[Link], dead: str) -> tuple[dict[str, list[Link]], list[Link]]:
    """Links of bridges homed on ``dead`` (by bridge), and links carrying members to ``dead``."""
    homed: dict[str, list[Link]] = {}
    for link in links:
        if link.home == dead:
            homed.setdefault(link.bridge_id, []).append(link)
    return homed, [link for link in links if link.remote == dead and link.home != dead]


class NodeFailover:
    def __init__(
        self,
        watch: ConsulWatch,
        nodes: NodeClients,
        incidents: Incidents,
        ownership: OwnershipStore,
        linker: Linker,
        members: BridgeMembers,
        notifier: StandInNotifier,
        on_restart: Callable[[Node], Awaitable[object]] | None = None,
        interval: float = 0.5,
    ) -> None:
        self._watch = watch
        self._nodes = nodes
        self._incidents = incidents
        self._ownership = ownership
        self._linker = linker
        self._members = members
        self._notifier = notifier
        self._rehoming = Rehoming(linker, nodes, ownership, members)
        self._known: dict[str, Node] = {}
        self._on_restart = on_restart
        self._restarts: set[asyncio.Task[None]] = set()
        # Redis or a node misbehaving fails one check: it is logged, and the next check looks again.
        self._task = Periodic("node-failover", self.check, interval, first_delay=interval)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def check(self) -> None:
        current = self._watch.snapshot.nodes
        for node in dead_nodes(self._known, current):
            await self._on_dead(node)
        for node in restarted_nodes(self._known, current):
            self._restarted(node)
        for node in current.values():
            if node.healthy:
                await self._incidents.close(node.node_id)
        self._known.update({n.node_id: n for n in current.values() if n.healthy})

    async def _on_dead(self, node: Node) -> None:
        if not await self._incidents.take(node.node_id):
            return  # handled, or being handled, by a gateway (maybe this one)
        started = await self._probe(node)
        known = self._known.get(node.node_id, node).started
        if started is not None and known and started and started != known:
            self._restarted(replace(node, started=started))
            await self._incidents.done(node.node_id)
            return
        if started is not None:
            log.warning("node %s is critical in Consul but its ARI answers: its calls are kept", node.node_id)
            await self._incidents.later(node.node_id)
            return
        try:
            await self.recover(node.node_id)
        except Exception:
            log.exception("recovering from the death of node %s failed; retrying in %d s",
                          node.node_id, RETRY_AFTER_S)  # fmt: skip
            await self._incidents.later(node.node_id)
            return
        await self._incidents.done(node.node_id)

    async def _probe(self, node: Node) -> str | None:
        """Asterisk's start time if the node's ARI answers ("" if it does not say); None if not."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                info = await self._nodes.client(node).get("/asterisk/info")
        except (AriError, TimeoutError):
            return None
        status = info.get("status") if isinstance(info, dict) else None
        return str(status.get("startup_time", "")) if isinstance(status, dict) else ""

    def _restarted(self, node: Node) -> None:
        """Hand the restarted node to ``on_restart`` in the background (it waits to confirm)."""
        log.warning("node %s: Asterisk restarted (started %s): its earlier channels are gone",
                    node.node_id, node.started)  # fmt: skip
        self._known[node.node_id] = node
        if self._on_restart is None:
            return
        task = asyncio.create_task(self._guarded_restart(node))
        self._restarts.add(task)
        task.add_done_callback(self._restarts.discard)

    async def _guarded_restart(self, node: Node) -> None:
        assert self._on_restart is not None
        try:
            await self._on_restart(node)
        except Exception:  # the audit's next pass finds them anyway
            log.exception("ending the channels of restarted node %s failed", node.node_id)

    async def recover(self, dead: str) -> None:
        log.warning("node %s died: recovering its bridges and members", dead)
        homed_links, member_links = split_links(await self._linker.involving(dead), dead)
        homed = await self._ownership.of_node(Kind.BRIDGE, dead)
        for bridge_id, owner in sorted(homed.items()):
            await self._rehome(dead, bridge_id, owner.app, homed_links.get(bridge_id, []))
        announced: set[str] = set()
        for node_bridge in await self._members.bridges_on(dead):
            bridge_id = app_bridge_id(node_bridge) or node_bridge
            links = [*member_links, *homed_links.get(bridge_id, [])]
            announced |= await self._members_left(dead, node_bridge, links)
        await self._others_ended(dead, announced)
        for link in member_links:
            await self._linker.unlink(link)
            bridge = await self._ownership.get(Kind.BRIDGE, link.bridge_id)
            log.info("bridge %s of app %s: link leg to dead node %s hung up on home node %s",
                     link.bridge_id, bridge.app if bridge else "?", dead, link.home)  # fmt: skip
        dropped = await self._ownership.release_node(dead)
        log.warning("node %s died: recovered; %d ownership entries dropped", dead, dropped)

    async def _rehome(self, dead: str, bridge_id: str, app: str, links: list[Link]) -> None:
        home = await self._rehoming.rehome(bridge_id, app, links) if links else None
        if home is None:
            await self._notifier.publish(dead, [bridge_destroyed(app, bridge_id, ari_timestamp())])
            log.warning("bridge %s of app %s died with its home node %s: no member left elsewhere",
                        bridge_id, app, dead)  # fmt: skip

    async def _others_ended(self, dead: str, announced: set[str]) -> None:
        """The dead node's channels in no bridge end too (StasisEnd), or the app waits forever."""
        channels = await self._ownership.of_node(Kind.CHANNEL, dead)
        others = {c: o for c, o in channels.items() if c not in announced and o.app != LINK_APP}
        timestamp = ari_timestamp()
        events = [
            e for c, owner in sorted(others.items()) for e in channel_departure(owner.app, c, timestamp)
        ]
        if events:
            await self._notifier.publish(dead, events)
        for channel_id, owner in sorted(others.items()):
            log.warning("channel %s of app %s ended with dead node %s", channel_id, owner.app, dead)

    async def _members_left(self, dead: str, node_bridge: str, links: list[Link]) -> set[str]:
        """``node_bridge``: the app's bridge, or its local bridge, as ``dead`` knew it."""
        bridge_id = app_bridge_id(node_bridge) or node_bridge
        members = await self._members.on_node(node_bridge, dead)
        mine = [link for link in links if link.bridge_id == bridge_id]
        legs = {leg for link in mine for leg in (link.home_leg, link.remote_leg)}
        await self._notifier.publish(dead, members_departure(members, legs, ari_timestamp()))
        await self._members.forget(node_bridge, dead)
        for member in members:
            log.warning("bridge %s of app %s: member %s left with dead node %s",
                        bridge_id, member.app, member.channel_id, dead)  # fmt: skip
        return {member.channel_id for member in members}
