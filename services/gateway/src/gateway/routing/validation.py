"""An app's request checked against Asterisk's own spec before any node sees it.

Parameters are read where Asterisk reads them, with its precedence (:mod:`.parameters`), so the
checks judge exactly what the node would act on.

Asterisk trusts its parsers in places: a string parameter sent as a JSON number reads as NULL, and
``POST /bridges/{id}/variable`` without ``variable`` dereferences that NULL (a segfault in 22.10).
So every parameter must be present when required, of its type (a JSON string for a string, digits
for an int), within its allowed values, and free of control characters.
"""

import json
import re
from typing import Any

from ariscale_common.errors import ApiError
from gateway.routing.parameters import JSON, Parameters, media_type
from gateway.routing.spec import Operation, Param

MAX_JSON_DEPTH = 16  # ARI bodies are at most two levels deep ({"variables": {...}})

# What Asterisk's spec leaves unsaid but its code fails on with a 500: the bridge type is a
# comma-separated list of these words, and an id given empty is not "no id".
BRIDGE_TYPES = frozenset(
    {"mixing", "holding", "dtmf_events", "proxy_media", "video_sfu", "video_single", "sdp_label"}
)
NON_EMPTY_IDS = ("bridgeId", "channelId", "otherChannelId", "snoopId", "playbackId")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INTEGER = re.compile(r"-?\d{1,18}")
# ast_true / ast_false, the words Asterisk reads a query boolean from.
_BOOLEANS = {"yes", "true", "y", "t", "1", "on", "no", "false", "n", "f", "0", "off"}


class InvalidParameter(ApiError):
    status = 400
    error_id = "invalid-parameter"


def check_json_body(body: bytes | None, content_type: str) -> None:
    """400 for a JSON body that cannot be read or nests too deep (before anything parses it)."""
    if not body or media_type(content_type) != JSON:
        return
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidParameter("the request body is not valid JSON") from None
    if _depth(decoded) > MAX_JSON_DEPTH:
        raise InvalidParameter(f"the request body nests deeper than {MAX_JSON_DEPTH} levels")


def effective_parameters(params: Parameters) -> dict[str, Any]:
    """Every parameter with its raw value (a JSON field keeps its type): form < query < JSON body."""
    merged: dict[str, Any] = dict(params.form)
    merged.update(params.query)
    merged.update(params.json_body or {})
    return merged


def validate(op: Operation, path_params: dict[str, str], parameters: dict[str, Any]) -> None:
    """Raise :class:`InvalidParameter` naming the first parameter Asterisk must not be sent."""
    for name, value in path_params.items():
        if not value or _CONTROL.search(value) or "/" in value:
            raise InvalidParameter(f"path parameter {name!r} is empty or has a control character or '/'")
    for param in op.params:
        if param.location == "query":
            _check(param, parameters.get(param.name))
        elif param.location == "body" and param.name in parameters:
            _check_container(param, parameters[param.name])
    for name, value in parameters.items():
        if isinstance(value, str) and _CONTROL.search(value):
            raise InvalidParameter(f"parameter {name!r} has a control character")
    _check_unstated(op, parameters)


def _check_unstated(op: Operation, parameters: dict[str, Any]) -> None:
    for name in NON_EMPTY_IDS:
        if parameters.get(name) == "" and any(p.name == name for p in op.params):
            raise InvalidParameter(f"parameter {name!r} is empty (leave it out to let Asterisk pick an id)")
    bridge_type = parameters.get("type")
    if op.resource == "bridges" and isinstance(bridge_type, str) and bridge_type:
        unknown = set(bridge_type.split(",")) - BRIDGE_TYPES
        if unknown:
            raise InvalidParameter(f"parameter 'type' must list words of {', '.join(sorted(BRIDGE_TYPES))}")


def _check(param: Param, value: Any) -> None:
    if value is None or value == "":
        if param.required:
            raise InvalidParameter(f"parameter {param.name!r} is required")
        return
    values = value if isinstance(value, list) and param.allow_multiple else [value]
    if not values:
        raise InvalidParameter(f"parameter {param.name!r} is an empty list")
    for item in values:
        _check_value(param, item)


def _check_value(param: Param, value: Any) -> None:
    if param.data_type in ("int", "long"):
        number = _integer(value)
        if number is None:
            raise InvalidParameter(f"parameter {param.name!r} must be an integer")
        if (param.minimum is not None and number < param.minimum) or (
            param.maximum is not None and number > param.maximum
        ):
            raise InvalidParameter(f"parameter {param.name!r} is out of range")
        return
    if param.data_type == "boolean":
        if not isinstance(value, bool) and not (isinstance(value, str) and value.lower() in _BOOLEANS):
            raise InvalidParameter(f"parameter {param.name!r} must be a boolean")
        return
    if not isinstance(value, str):
        raise InvalidParameter(f"parameter {param.name!r} must be a string")
    if param.allowed:
        for item in value.split(",") if param.allow_multiple else [value]:
            if item not in param.allowed:
                raise InvalidParameter(f"parameter {param.name!r} must be one of {', '.join(param.allowed)}")


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    return None


def _check_container(param: Param, value: Any) -> None:
    """``variables`` (and the like): an object of strings, as Asterisk's variable parser needs."""
    if param.data_type == "object":
        if not isinstance(value, dict):
            raise InvalidParameter(f"body field {param.name!r} must be an object")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(item, str):
                raise InvalidParameter(f"body field {param.name!r}: {key!r} must be a string")
            if _CONTROL.search(key) or _CONTROL.search(item):
                raise InvalidParameter(f"body field {param.name!r}: {key!r} has a control character")
    elif not isinstance(value, list):
        raise InvalidParameter(f"body field {param.name!r} must be an object")


def _depth(value: Any) -> int:
    """How deep containers nest (iterative: the body may be nested close to the recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest
