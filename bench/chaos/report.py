"""The faults' results as one Markdown table (the README's "Faults" section is its output)."""

from collections.abc import Mapping, Sequence
from typing import Any

COLUMNS = (
    "fault", "up before", "ended early (by node)", "new failed", "failed window s",
    "events lost / dup", "start w/o end", "orphans", "healthy after s",
)  # fmt: skip


def by_node(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{node} {n}" for node, n in counts.items()) or "-"


def span(window: Mapping[str, float] | None) -> str:
    return "-" if window is None else f"{window['first_s']:+.1f} .. {window['last_s']:+.1f}"


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
        "never" if health is None else f"{health:.1f}",
    ]


def table(results: Sequence[Mapping[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row(r)) + " |" for r in results]
    return "\n".join(lines)
