"""Resident memory and open file descriptors of process trees, read from ``/proc``."""

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from bench.load import cpu


def rss_kb(pid: int) -> int:
    """``VmRSS`` of ``pid`` in KiB (0 once it is gone, or for a kernel thread)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0


def usage(groups: Mapping[str, Iterable[int]]) -> dict[str, dict[str, int]]:
    """Per named group of process trees: ``rss_kb``, ``fds`` and how many ``processes``."""
    parents = {pid: parent for pid, (parent, _) in cpu.processes().items()}
    result = {}
    for name, roots in groups.items():
        pids = cpu.descendants(roots, parents)
        result[name] = {
            "rss_kb": sum(map(rss_kb, pids)),
            "fds": sum(map(fd_count, pids)),
            "processes": len(pids),
        }
    return result


def growth(
    start: Mapping[str, Mapping[str, int]], end: Mapping[str, Mapping[str, int]]
) -> dict[str, dict[str, float]]:
    """Per group: RSS change in KiB and percent, fd change (groups in both readings only)."""
    changes = {}
    for name in sorted(start.keys() & end.keys()):
        before, after = start[name], end[name]
        rss = after["rss_kb"] - before["rss_kb"]
        changes[name] = {
            "rss_kb": rss,
            "rss_pct": round(100 * rss / before["rss_kb"], 1) if before["rss_kb"] else 0.0,
            "fds": after["fds"] - before["fds"],
        }
    return changes
