"""Which channel and bridge variables an app may name, and what values it may give them.

Asterisk treats a variable name ending in ``)`` as a dialplan function call (``GLOBAL(APP_7771)``,
``IMPORT(<other channel>,X)``, ``SHELL(...)``), and a plain name it cannot find on the channel
falls through to the node's globals (``APP_<number>``, the number → app map). The rule is an
allow-list, compared case-insensitively so ``global(...)`` or ``Shell(...)`` gain nothing:

* a plain name ``[_]{0,2}[A-Za-z][A-Za-z0-9_]*``, except the node's own: ``APP_*`` (the number
  map), ``ARISCALE_*`` (the gateway's ownership tag) and the built-ins naming host paths;
* or ``F(args)`` with ``F`` one of :data:`FUNCTIONS` (each acts on the request's own channel only)
  and plain-word arguments; ``CHANNEL(item)`` only for the items in :data:`CHANNEL_ITEMS`.

Values are data: one containing ``${`` or ``$[`` (an expression the dialplan would expand when it
reads the variable back) is refused.
"""

import re
from typing import Any

from gateway.exceptions import ForbiddenVariable
from gateway.routing.spec import Operation

FUNCTIONS = frozenset({
    "CALLERID", "CONNECTEDLINE", "REDIRECTING", "CHANNEL", "CDR", "VOLUME", "PITCH_SHIFT",
    "TALK_DETECT", "DENOISE", "AGC", "JITTERBUFFER", "TIMEOUT", "PJSIP_HEADER", "PJSIP_DTMF_MODE",
})  # fmt: skip

# CHANNEL() items that read or set the channel itself (not hangup handlers, after-bridge gotos
# or anything else that runs dialplan).
CHANNEL_ITEMS = frozenset({
    "language", "musicclass", "accountcode", "peeraccount", "amaflags", "callgroup", "pickupgroup",
    "namedcallgroup", "namedpickupgroup", "parkinglot", "tonezone", "userfield", "hangupsource",
    "name", "uniqueid", "linkedid", "channeltype", "state", "checkhangup", "audioreadformat",
    "audiowriteformat", "audionativeformat", "videonativeformat", "max_forwards", "callid", "rtp",
    "rtcp", "endpoint", "contact", "aor", "pjsip", "secure_bridge_signaling",
    "secure_bridge_media", "dtmf_features",
})  # fmt: skip

RESERVED_PREFIXES = ("APP_", "ARISCALE_")
HOST_BUILTINS = frozenset({
    "ASTETCDIR", "ASTMODDIR", "ASTVARLIBDIR", "ASTDBDIR", "ASTKEYDIR", "ASTDATADIR", "ASTAGIDIR",
    "ASTSPOOLDIR", "ASTRUNDIR", "ASTLOGDIR", "ASTSBINDIR", "ASTCACHEDIR", "SYSTEMNAME", "ENTITYID",
})  # fmt: skip

_PLAIN = re.compile(r"_{0,2}([A-Za-z][A-Za-z0-9_]*)")
_CALL = re.compile(r"([A-Za-z][A-Za-z0-9_]*)\(([A-Za-z0-9_.,-]*)\)")
_EXPRESSION = re.compile(r"\$[{\[]")

# Operations whose body ``variables`` Asterisk sets on a channel or bridge.
_SETS_BODY_VARIABLES = ("channels", "bridges")


def check_name(name: str) -> None:
    """Raise :class:`ForbiddenVariable` unless ``name`` is allowed by the rule above."""
    plain = _PLAIN.fullmatch(name)
    if plain:
        upper = plain.group(1).upper()
        if upper.startswith(RESERVED_PREFIXES) or upper in HOST_BUILTINS:
            raise ForbiddenVariable(f"variable {name!r} belongs to the node, not to applications")
        return
    call = _CALL.fullmatch(name)
    if call is None:
        raise ForbiddenVariable(f"variable {name!r} is not a plain name nor an allowed function call")
    function, args = call.group(1).upper(), call.group(2)
    if function not in FUNCTIONS:
        raise ForbiddenVariable(f"function {call.group(1)!r} reaches outside the app's own resources")
    if function == "CHANNEL" and args.partition(",")[0].lower() not in CHANNEL_ITEMS:
        raise ForbiddenVariable(f"CHANNEL item {args!r} is not one an application may use")


def check_value(name: str, value: str) -> None:
    if _EXPRESSION.search(value):
        raise ForbiddenVariable(f"the value of {name!r} holds a dialplan expression ('${{' or '$[')")


def check_variables(op: Operation, parameters: dict[str, Any]) -> None:
    """Every variable name and value an operation would hand to Asterisk."""
    if op.resource not in _SETS_BODY_VARIABLES:
        return
    if any(p.name == "variable" for p in op.params):
        name = parameters.get("variable")
        if isinstance(name, str) and name:
            check_name(name.strip())
            check_value(name, str(parameters.get("value") or ""))
    variables = parameters.get("variables")
    if isinstance(variables, dict) and any(p.name == "variables" for p in op.params):
        for name, value in variables.items():
            check_name(str(name).strip())
            check_value(str(name), str(value))
