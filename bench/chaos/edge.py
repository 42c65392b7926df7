"""What the SIP edge did during a fault: its dispatch set over time, and where it sent each call.

Two views, both direct:

* Kamailio's live dispatch set, polled with ``kamcmd dispatcher.list`` every ~0.1 s while the fault
  runs: when each node left the set (removed by the registry, or flagged inactive/disabled) and
  when it was back.
* Kamailio's own log: the config logs every INVITE's first destination (``… (<Call-ID>) -> <uri>``)
  and each failover (``<Call-ID>: node failed, retrying on <uri>``). Joined with sipp's call records
  by Call-ID, it tells which calls were sent to a node that did not answer them. sipp alone cannot:
  a call sent to a dead node and failed over shows only the node that answered (its 200's Contact).
"""

import asyncio
import contextlib
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ariscale_cluster import ClusterSpec, kamailio
from bench.chaos.calls import CallRecord, node_of, window

POLL_INTERVAL = 0.1
_FIRST_SEND = re.compile(r"\((?P<call_id>[^()\s]+)\) -> (?P<uri>\S+)\s*$")
_RETRY = re.compile(r"(?P<call_id>\S+): node failed, retrying on (?P<uri>\S+)\s*$")

DispatchSet = dict[str, bool]  # node id → active (``FLAGS`` starting with A); absent: not in the set


def dispatch_set(kamcmd_output: str) -> DispatchSet | None:
    """The set ``kamcmd dispatcher.list`` printed, keyed by the ``node=`` attribute of each entry;
    empty when Kamailio has no set at all (an empty list file); None when it did not answer.

    Flags: ``A`` active, ``I`` inactive, ``D`` disabled, then ``P`` probing or ``X`` not probing.
    """
    text = kamcmd_output.strip()
    if "No Destination Sets" in text:
        return {}
    if not text.startswith("{"):
        return None
    nodes: DispatchSet = {}
    flags: str | None = None
    for line in text.splitlines():
        key, _, value = line.strip().partition(": ")
        if key == "FLAGS":
            flags = value.strip()
        elif key == "BODY" and flags is not None:
            attrs = dict(a.split("=", 1) for a in value.split(";") if "=" in a)
            if "node" in attrs:
                nodes[attrs["node"]] = flags.startswith("A")
            flags = None
    return nodes


@dataclass
class DispatchWatch:
    """Samples of the dispatch set: (``time.monotonic()`` when read, the set or None if unreadable)."""

    samples: list[tuple[float, DispatchSet | None]] = field(default_factory=list)

    def out_and_back(self, since: float) -> dict[str, dict[str, float | None]]:
        """Each node that was out of the set (gone or inactive) after ``since``: seconds from
        ``since`` to the first sample without it, and to the first later sample with it active
        again (None if never). Unreadable samples tell nothing and are skipped."""
        readable = [(t, s) for t, s in self.samples if t >= since and s is not None]
        found: dict[str, dict[str, float | None]] = {}
        for node in sorted({node for _, s in self.samples if s for node in s}):
            out = next((t for t, s in readable if not s.get(node, False)), None)
            if out is None:
                continue
            back = next((t for t, s in readable if t > out and s.get(node, False)), None)
            found[node] = {
                "out_s": round(out - since, 2),
                "back_s": None if back is None else round(back - since, 2),
            }
        return found


async def poll(spec: ClusterSpec, watch: DispatchWatch, interval: float = POLL_INTERVAL) -> None:
    """Sample Kamailio's dispatch set into ``watch`` until cancelled."""
    while True:
        try:
            result = await asyncio.to_thread(kamailio.kamcmd, spec, "dispatcher.list")
            seen = dispatch_set(result.stdout)
        except (OSError, subprocess.SubprocessError):  # kamcmd missing, or Kamailio never answered
            seen = None
        watch.samples.append((time.monotonic(), seen))
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def watching(spec: ClusterSpec) -> AsyncIterator[DispatchWatch]:
    """Kamailio's dispatch set sampled for as long as the block lasts."""
    watch = DispatchWatch()
    task = asyncio.create_task(poll(spec, watch))
    try:
        yield watch
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def destinations(log_lines: Iterable[str], node_ports: Mapping[int, str]) -> dict[str, list[str]]:
    """Call-ID → the nodes Kamailio sent its INVITE to, in order (first choice, then failovers),
    from Kamailio's log (other lines, and URIs of no known node, skipped)."""
    sent: dict[str, list[str]] = {}
    for line in log_lines:
        match = _FIRST_SEND.search(line) or _RETRY.search(line)
        if match is None:
            continue
        node = node_of(match["uri"], node_ports)
        if node is not None:
            sent.setdefault(match["call_id"], []).append(node)
    return sent


def sent_to_node(
    calls: Iterable[CallRecord], sent: Mapping[str, list[str]], node: str, fault_at: float
) -> dict[str, Any]:
    """Calls started at or after ``fault_at`` (epoch) that the edge sent to ``node``: those the node
    did not answer (sent while it could not take them), when they started relative to the fault and
    how many of them another node answered (failover); and those it answered (a UDP INVITE
    retransmitted into a restarted node counts: the node took the call)."""
    later = [
        c
        for c in calls
        if c.started is not None and c.started >= fault_at and node in sent.get(c.call_id, ())
    ]
    unanswered = [c for c in later if c.node != node]
    answered = [c.started for c in later if c.node == node and c.started is not None]
    return {
        "node": node,
        "sent": len(later),
        "not_answered": len(unanswered),
        "not_answered_window": window([c.started for c in unanswered if c.started is not None], fault_at),
        "failed_over": sum(1 for c in unanswered if c.node is not None),
        "answered": len(answered),
        "first_answered_s": round(min(answered) - fault_at, 2) if answered else None,
    }
