"""Supervision, as a container runtime's restart policy does it: a process of the cluster that dies
is started again at once, and with a growing delay while it keeps dying.

``make up`` runs one supervisor per cluster (component ``supervisor``, stopped first by ``make
down``). It only restarts processes it finds dead under their pid file: servers of the machine that
the cluster merely reuses, and components stopped on purpose (no pid file), are left alone.
Restarts are logged and counted in ``<state dir>/restarts.json``, which ``make status`` shows.
"""

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 0.5
FIRST_DELAY_S = 0.0
MAX_DELAY_S = 30.0
STABLE_AFTER_S = 30.0  # a process that lived this long crashed "fresh": its backoff starts over


@dataclass
class RestartRecord:
    count: int = 0  # restarts since the supervisor started
    last_start: float = 0.0  # when it was last started by the supervisor
    delay: float = FIRST_DELAY_S  # how long to wait before the next restart


def next_delay(record: RestartRecord, now: float) -> float:
    """The delay before restarting a process that just died: none the first time, doubling (to a
    cap) while it keeps dying soon after each restart."""
    if record.count == 0 or now - record.last_start >= STABLE_AFTER_S:
        return FIRST_DELAY_S
    return min(MAX_DELAY_S, max(1.0, record.delay * 2))


def read_restarts(state_dir: Path) -> dict[str, RestartRecord]:
    try:
        data = json.loads((state_dir / "restarts.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {name: RestartRecord(**fields) for name, fields in data.items()}


def write_restarts(state_dir: Path, records: dict[str, RestartRecord]) -> None:
    path = state_dir / "restarts.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({name: asdict(r) for name, r in records.items()}, indent=2))
    tmp.replace(path)  # status readers never see half a file
