"""``make logs``: every component's log merged into one stream, or everything about one call.

Services write JSON lines (``ariscale_common.logs``); they are shown as
``time component level message key=value…``. Other components' lines (Asterisk, Kamailio,
Consul, Prometheus) are shown as they are, after the component's name.
"""

import json
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

FIELDS = ("node", "app", "channel", "bridge", "request_id")
POLL_S = 0.3
# Asterisk's logger.conf dateformat (%F %T.%3q): "[2026-11-29 07:52:59.123] …"
_ASTERISK_TS = re.compile(r"^\[(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)\]")


@dataclass(frozen=True)
class Line:
    ts: str  # ISO-8601, sortable; "" when the line has none
    component: str
    text: str
    fields: dict[str, Any]


def parse(component: str, raw: str) -> Line:
    """A raw log line as a :class:`Line` (JSON lines decoded, Asterisk's time read)."""
    raw = raw.rstrip("\n")
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return Line(str(data.get("ts", "")), component, str(data.get("msg", "")), data)
    match = _ASTERISK_TS.match(raw)
    ts = f"{match[1]}T{match[2]}Z" if match else ""
    return Line(ts, component, raw, {})


def render(line: Line, width: int = 12) -> str:
    if not line.fields:
        return f"{line.component:<{width}} | {line.text}"
    f = line.fields
    extra = " ".join(f"{k}={f[k]}" for k in FIELDS if f.get(k))
    exc = f"\n{f['exc']}" if f.get("exc") else ""
    return f"{line.ts} {line.component:<{width}} {f.get('level', ''):<7} {line.text}  {extra}".rstrip() + exc


def mentions(line: Line, needles: Iterable[str]) -> bool:
    """True if the line is about one of ``needles`` (a whole id, not a prefix of a longer one)."""
    raw = line.text + " " + " ".join(str(v) for v in line.fields.values())
    return any(re.search(re.escape(n) + r"(?![\w.])", raw) for n in needles)


def call_lines(sources: list[tuple[str, Path]], channel_id: str) -> list[Line]:
    """Every line about one call, across components, in time order.

    Lines naming the channel id come first; the Asterisk name of the channel (logged by the node
    agent) then finds the node's own Asterisk lines about it too.
    """
    lines = [parse(name, raw) for name, path in sources for raw in _read(path)]
    found = [ln for ln in lines if mentions(ln, [channel_id])]
    names = {str(ln.fields["channel_name"]) for ln in found if ln.fields.get("channel_name")}
    names |= {m for ln in found for m in re.findall(r"\((PJSIP/[\w.-]+)", ln.text)}
    node = channel_id.split("-", 1)[0]
    if names:
        found += [
            ln for ln in lines if ln.component == f"asterisk-{node}" and not ln.fields and mentions(ln, names)
        ]
    return sorted(found, key=lambda ln: ln.ts)


def follow(sources: list[tuple[str, Path]], out: IO[str] = sys.stdout, backlog: int = 10) -> None:
    """Print every component's new lines as they are written, until interrupted."""
    width = max((len(name) for name, _ in sources), default=12)
    # Every file's backlog and position are taken before anything is printed: a line written
    # once the first backlog is out must come as a new line, not fall between the two.
    positions: dict[Path, int] = {}
    backlogs = []
    for name, path in sources:
        data = path.read_bytes() if path.exists() else b""
        positions[path] = len(data)
        backlogs.append((name, data.decode(errors="replace").splitlines()[-backlog:]))
    for name, lines in backlogs:
        for raw in lines:
            out.write(render(parse(name, raw), width) + "\n")
    out.flush()
    try:
        while True:
            for name, path in sources:
                for raw in _new_lines(path, positions):
                    out.write(render(parse(name, raw), width) + "\n")
            out.flush()
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        return


def _read(path: Path) -> Iterator[str]:
    if not path.exists():
        return iter(())
    return iter(path.read_text(errors="replace").splitlines())


def _new_lines(path: Path, positions: dict[Path, int]) -> list[str]:
    """Complete lines appended since the last look (a truncated or replaced file starts over)."""
    if not path.exists():
        return []
    size = path.stat().st_size
    start = positions.get(path, 0)
    if size < start:
        start = 0
    if size == start:
        return []
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read(size - start)
    complete = data.rfind(b"\n") + 1
    positions[path] = start + complete
    return data[:complete].decode(errors="replace").splitlines()
