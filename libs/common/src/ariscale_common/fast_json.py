"""JSON for the per-event paths of the agents and the gateway: orjson, several times faster than the
standard library at parsing and writing events, falling back to the standard library for the rare
text only it takes (``NaN``, a lone surrogate escape), so such an event is passed on, not dropped."""

import json
from typing import Any

import orjson


def loads(data: bytes | str) -> Any:
    """The value in ``data``; ValueError when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any) -> str:
    """Compact JSON text of ``value``."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson's refusal of what the standard library writes (a lone surrogate)
        return json.dumps(value, separators=(",", ":"))
