"""Which ARI operation a method and path name: the spec's paths as patterns (for requests that do
not come through HTTP routing, like ``RESTRequest`` messages on the events websocket)."""

import re
from dataclasses import dataclass
from functools import cache

from gateway.routing.spec import Operation, operations, static_segments_first


@dataclass(frozen=True)
class Match:
    op: Operation | None  # None: the path exists, not with this method (405)
    path_params: dict[str, str]


def match(method: str, path: str) -> Match | None:
    """The operation of ``method path`` (path relative to /ari, e.g. ``/channels/n1-1.2/answer``);
    None when no operation has this path (404)."""
    found_path = False
    for pattern, op in _patterns():
        matched = pattern.fullmatch(path)
        if matched is None:
            continue
        if op.method == method.upper():
            return Match(op, matched.groupdict())
        found_path = True
    return Match(None, {}) if found_path else None


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], Operation], ...]:
    ordered = sorted(operations(), key=static_segments_first)
    return tuple((_pattern(op.path), op) for op in ordered if not op.websocket)


def _pattern(path: str) -> re.Pattern[str]:
    parts = [
        f"(?P<{segment[1:-1]}>[^/]+)" if segment.startswith("{") else re.escape(segment)
        for segment in path.split("/")
    ]
    return re.compile("/".join(parts))
