"""The faults' results as one Markdown table (the README's "Faults" section is its output)."""

from collections.abc import Mapping, Sequence
from typing import Any

COLUMNS = (
    "fault", "up before", "ended early (by node)", "new failed", "failed window s",
    "events lost / dup", "start w/o end", "orphans", "app ws down s", "edge out / back s",
    "sent to dead node (failed over, last s)", "healthy after s",
)  # fmt: skip


def by_node(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{node} {n}" for node, n in counts.items()) or "-"


def span(window: Mapping[str, float] | None) -> str:
    return "-" if window is None else f"{window['first_s']:+.1f} .. {window['last_s']:+.1f}"


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


def outages(gaps: Sequence[float | None]) -> str:
    """The app's websocket outages, each from its drop to connected again."""
    return ", ".join(seconds(gap) for gap in gaps) or "-"


def out_and_back(nodes: Mapping[str, Mapping[str, float | None]]) -> str:
    """Each node that left the edge's dispatch set: seconds after the fault it left / came back."""
    return (
        ", ".join(f"{node} {seconds(t['out_s'])} / {seconds(t['back_s'])}" for node, t in nodes.items())
        or "-"
    )


def sent_to_dead(sent: Mapping[str, Any] | None) -> str:
    """Calls the edge sent to the faulted node that it did not answer, how many of them another
    node took, and when the last one started."""
    if sent is None:
        return "-"
    window = sent["not_answered_window"]
    last = "" if window is None else f", {window['last_s']:+.1f}"
    return f"{sent['not_answered']} ({sent.get('failed_over', '?')}{last})"


def row(result: Mapping[str, Any]) -> list[str]:
    if "skipped" in result:
        return [result["fault"], f"skipped: {result['skipped']}", *[""] * (len(COLUMNS) - 2)]
    events, health = result["events"], result["time_to_health_s"]
    return [
        result["fault"],
        str(result["established_before"]),
        f"{result['ended_early']} ({by_node(result['ended_early_by_node'])})",
        f"{result['new_failed']} / {result['new_calls']}",
        span(result["new_failed_window"]),
        f"{events['lost']} / {events['duplicates']}",
        str(events["start_without_end"]),
        str(result["orphans"]["count"]),
        outages(result.get("app_reconnect_s", [])),
        out_and_back(result.get("edge_out_and_back_s", {})),
        sent_to_dead(result.get("edge_sent_to_faulted_node")),
        seconds(health),
    ]


def table(results: Sequence[Mapping[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row(r)) + " |" for r in results]
    return "\n".join(lines)
