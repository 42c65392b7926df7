"""Where each ARI operation goes: derived once from the spec, as one :class:`Plan` per operation.

* ``OWNER``  — the node that owns the resource named by the first path parameter.
* ``CREATE`` — a new channel or bridge: the node of a related channel, else the least loaded.
* ``LIST``   — every healthy node, answers merged (channels and bridges filtered to the app).
* ``APP``    — the caller's own application, on every node.
* ``ANY``    — one healthy node (reads of node-wide state: sounds, info, a device state).
* ``ALL``    — every healthy node (writes of node-wide state: global variables, device states).
* ``EVENTS`` — the websocket, served by the gateway from the bus.

Operations that start a sub-resource on the owner's node (play → playback, record → live
recording, snoop → channel) name it in ``creates`` so its ownership is recorded from the answer.
"""

import enum
from dataclasses import dataclass

from gateway.ownership import Kind
from gateway.routing.spec import Operation


class Policy(enum.Enum):
    OWNER = "owner"
    CREATE = "create"
    LIST = "list"
    APP = "app"
    ANY = "any"
    ALL = "all"
    EVENTS = "events"


@dataclass(frozen=True)
class Plan:
    policy: Policy
    kind: Kind | None = None  # the resource routed on (OWNER) or created (CREATE)
    id_param: str | None = None  # where its id is: a path or query parameter
    creates: Kind | None = None  # sub-resource started on the owner's node
    created_id_field: str = "id"  # where the answer names what was created
    app_params: tuple[str, ...] = ()  # parameters that must name the caller's own app


# The first path parameter names the owned resource.
_OWNED_BY_PARAM = {"channelId": Kind.CHANNEL, "bridgeId": Kind.BRIDGE, "playbackId": Kind.PLAYBACK}

# Operations whose answer is a resource the gateway must start tracking.
_SUB_RESOURCES = {
    "play": (Kind.PLAYBACK, "id"),
    "playWithId": (Kind.PLAYBACK, "id"),
    "record": (Kind.RECORDING, "name"),
    "snoopChannel": (Kind.CHANNEL, "id"),
    "snoopChannelWithId": (Kind.CHANNEL, "id"),
}

_CREATIONS = {
    ("channels", "originate"): (Kind.CHANNEL, "channelId"),
    ("channels", "originateWithId"): (Kind.CHANNEL, "channelId"),
    ("channels", "create"): (Kind.CHANNEL, "channelId"),
    ("channels", "externalMedia"): (Kind.CHANNEL, "channelId"),
    ("bridges", "create"): (Kind.BRIDGE, "bridgeId"),
    ("bridges", "createWithId"): (Kind.BRIDGE, "bridgeId"),
}

_APP_PARAMS = ("app", "application", "applicationName")


def plan_for(op: Operation) -> Plan:
    """The routing plan of one operation (pure: depends only on the spec)."""
    app_params = tuple(p.name for p in op.params if p.name in _APP_PARAMS and p.location == "query")
    if op.websocket:
        return Plan(Policy.EVENTS)
    if (op.resource, op.nickname) in _CREATIONS:
        kind, id_param = _CREATIONS[(op.resource, op.nickname)]
        return Plan(Policy.CREATE, kind=kind, id_param=id_param, app_params=app_params)
    path_params = op.path_params
    if op.resource == "recordings" and path_params:
        kind = Kind.RECORDING if op.path.startswith("/recordings/live") else Kind.STORED
        return Plan(Policy.OWNER, kind=kind, id_param="recordingName")
    if path_params and path_params[0] in _OWNED_BY_PARAM:
        creates, field = _SUB_RESOURCES.get(op.nickname, (None, "id"))
        return Plan(
            Policy.OWNER,
            kind=_OWNED_BY_PARAM[path_params[0]],
            id_param=path_params[0],
            creates=creates,
            created_id_field=field,
            app_params=app_params,
        )
    if op.resource == "applications" and path_params:
        return Plan(Policy.APP, id_param="applicationName")
    if op.method == "GET" and not path_params and op.resource != "asterisk":
        return Plan(Policy.LIST)
    if op.method == "GET" or op.resource == "events":
        return Plan(Policy.ANY, app_params=app_params)
    return Plan(Policy.ALL, app_params=app_params)
