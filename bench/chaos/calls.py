"""Each call's steps from sipp's log, and what a fault at a given moment cost the calls.

The caller logs each step (``ariscale_cluster.sipp.CALL_STEPS``); a call that was up and neither
finished its own hang-up (``end``) nor was hung up on (``hung_up``, which an app that only answers
never does) ended early: its node dropped it, or its BYE found nobody.
"""

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_PORT = re.compile(r"@?[\d.]+:(\d+)")


@dataclass
class CallRecord:
    """One sipp call; times are epoch seconds, None when the step never happened."""

    call_id: str
    started: float | None = None
    up: float | None = None
    node: str | None = None
    hung_up: float | None = None
    ended: float | None = None

    @property
    def ended_early(self) -> bool:
        return self.up is not None and self.ended is None


def node_of(contact: str, node_ports: Mapping[int, str]) -> str | None:
    """The node whose SIP port the answer's Contact names (``Contact: <sip:127.0.0.1:28011>``)."""
    for match in _PORT.finditer(contact):
        node = node_ports.get(int(match.group(1)))
        if node is not None:
            return node
    return None


def parse_steps(lines: Iterable[str], node_ports: Mapping[int, str]) -> dict[str, CallRecord]:
    """Call-ID → record, from the lines of sipp's ``-trace_logs`` file (unknown lines skipped)."""
    calls: dict[str, CallRecord] = {}
    for line in lines:
        fields = line.rstrip("\n").split(";", 3)
        if len(fields) < 3 or fields[0] not in ("start", "up", "hung_up", "end"):
            continue
        try:
            when = float(fields[2].split("\t")[-1])
        except ValueError:
            continue
        record = calls.setdefault(fields[1], CallRecord(fields[1]))
        if fields[0] == "up":
            record.up = when
            record.node = node_of(fields[3], node_ports) if len(fields) > 3 else None
        elif fields[0] == "start":
            record.started = when
        elif fields[0] == "hung_up":
            record.hung_up = when
        else:
            record.ended = when
    return calls


def window(times: list[float], origin: float) -> dict[str, float] | None:
    """First and last of ``times`` in seconds after ``origin``, and the span between them."""
    if not times:
        return None
    first, last = min(times) - origin, max(times) - origin
    return {"first_s": round(first, 2), "last_s": round(last, 2), "span_s": round(last - first, 2)}


def fault_cost(calls: Iterable[CallRecord], fault_at: float) -> dict[str, Any]:
    """Calls up before ``fault_at`` that ended early (by node); the others ("new": in setup or
    started later) that were never answered and when they started, relative to the fault."""
    records = list(calls)
    before = [c for c in records if c.up is not None and c.up < fault_at]
    new = [c for c in records if c.started is not None and (c.up is None or c.up >= fault_at)]
    failed_new = [c for c in new if c.up is None]
    dropped = [c for c in before if c.ended_early]
    return {
        "established_before": len(before),
        "established_before_by_node": dict(sorted(Counter(str(c.node) for c in before).items())),
        "ended_early": len(dropped),
        "ended_early_by_node": dict(sorted(Counter(str(c.node) for c in dropped).items())),
        "new_calls": len(new),
        "new_failed": len(failed_new),
        "new_failed_window": window([c.started for c in failed_new if c.started is not None], fault_at),
        "new_up_then_ended_early": sum(1 for c in new if c.ended_early),
    }


def totals(calls: Iterable[CallRecord]) -> dict[str, int]:
    """Calls placed, answered, finished as planned, and ended early."""
    records = list(calls)
    return {
        "placed": len(records),
        "up": sum(1 for c in records if c.up is not None),
        "completed": sum(1 for c in records if c.ended is not None),
        "ended_early": sum(1 for c in records if c.ended_early),
    }
