"""CPU seconds of processes (with their descendants), read from ``/proc/<pid>/stat``."""

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user+system CPU seconds) of ``pid``, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    # After the command: state ppid … utime (14th field of the line) stime (15th).
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def processes() -> dict[int, tuple[int, float]]:
    """Every live process: pid → (parent pid, CPU seconds)."""
    table = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                table[int(entry.name)] = stat
    return table


def named(name: str) -> list[int]:
    """Pids whose command name (``/proc/<pid>/comm``) is ``name``."""
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                comm = Path(f"/proc/{entry.name}/comm").read_text().strip()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if comm == name:
                pids.append(int(entry.name))
    return pids


def descendants(roots: Iterable[int], parents: Mapping[int, int]) -> set[int]:
    """``roots`` and every process below them (``parents``: pid → parent pid)."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    seen: set[int] = set()
    stack = [pid for pid in roots if pid in parents]
    while stack:
        pid = stack.pop()
        if pid not in seen:
            seen.add(pid)
            stack.extend(children.get(pid, []))
    return seen


def tree_seconds(roots: Iterable[int], table: Mapping[int, tuple[int, float]]) -> float:
    """CPU seconds of ``roots`` and all their live descendants (uvicorn workers, Kamailio children)."""
    parents = {pid: parent for pid, (parent, _) in table.items()}
    return sum(table[pid][1] for pid in descendants(roots, parents))


def snapshot(groups: Mapping[str, Iterable[int]]) -> dict[str, float]:
    """CPU seconds so far of each named group of process trees."""
    table = processes()
    return {name: tree_seconds(pids, table) for name, pids in groups.items()}


def per_call_ms(before: Mapping[str, float], after: Mapping[str, float], calls: int) -> dict[str, float]:
    """CPU milliseconds per call of each group between two snapshots."""
    calls = max(calls, 1)
    return {name: round(1000 * (after[name] - before.get(name, 0.0)) / calls, 2) for name in after}
