"""Requests naming event sources go to the nodes that hold them.

Asterisk only knows its own channels and bridges: ``subscribe``/``unsubscribe`` send each channel
or bridge source to its owner node, and a user event goes to the node of its channel or bridge
source. Sent everywhere, they would fail on the nodes without the resource (422) while taking
effect on the one with it. Endpoint and device-state sources go to every node: each node has the
endpoint and reports its own calls on it; each node reports its own device states, and the app
hears a ``Stasis:`` device's change, which every node makes, once
(:mod:`gateway.events.device_changes`).
"""

import asyncio
from collections import defaultdict

from gateway.ownership import Kind
from gateway.routing.listing import merge_application
from gateway.routing.messages import AriAnswer, AriCall
from gateway.routing.references import sources
from gateway.routing.sending import Sender

_ON_OWNER = {"channel": Kind.CHANNEL, "bridge": Kind.BRIDGE}


class EventSourceRequests:
    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    async def subscription(self, call: AriCall) -> AriAnswer:
        """(Un)subscribe each source on the node(s) holding it; the app's merged state."""
        by_node = await self._by_node(call)
        everywhere = by_node.pop(None, [])
        targets = {n.node_id: [*by_node.get(n.node_id, []), *everywhere] for n in self._sender.healthy()}
        nodes = [node for node in self._sender.healthy() if targets[node.node_id]]
        answers = await asyncio.gather(
            *(self._sender.send(node, _with_sources(call, targets[node.node_id])) for node in nodes)
        )
        holders = [bool(by_node.get(node.node_id)) for node in nodes]
        return cluster_answer(answers, holders)

    async def user_event(self, call: AriCall) -> AriAnswer | None:
        """A user event on the node of its channel or bridge source; None when it has none."""
        by_node = await self._by_node(call)
        node_id = next((n for n in by_node if n is not None), None)
        node = self._sender.live_node(node_id) if node_id else None
        return await self._sender.send(node, call) if node is not None else None

    async def _by_node(self, call: AriCall) -> dict[str | None, list[str]]:
        grouped: dict[str | None, list[str]] = defaultdict(list)
        for scheme, resource in sources(call):
            kind = _ON_OWNER.get(scheme)
            owner = await self._sender.locator.owner(kind, resource) if kind else None
            grouped[owner.node if owner else None].append(f"{scheme}:{resource}")
        return grouped


def _with_sources(call: AriCall, found: list[str]) -> AriCall:
    return call.with_params(("eventSource",), [("eventSource", ",".join(found))])


def cluster_answer(answers: list[AriAnswer], holders: list[bool]) -> AriAnswer:
    """One Asterisk's answer: a refusal by a node holding a source's channel or bridge, else the
    merged state. A node holding none of them may lack what the others have (restarted since the
    subscription: "not subscribed"), so it refuses alone only when every node refuses."""
    succeeded = [a for a in answers if a.ok]
    failed = next((a for a, holder in zip(answers, holders, strict=True) if holder and not a.ok), None)
    if failed is not None:
        return failed
    if not succeeded:
        return answers[0] if answers else AriAnswer.json(400, {"message": "eventSource is required"})
    return AriAnswer.json(succeeded[0].status, merge_application([a.decoded() for a in succeeded]))
