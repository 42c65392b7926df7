"""The Stasis event bus, written down once: exchange, routing keys, who publishes, who consumes.

Exchange ``ariscale.stasis`` (topic, durable). Routing key grammar::

    stasis.app.<app>.<node id>.<EventType>        e.g. stasis.app.conf.n1.StasisStart

* Publisher: the node agent of ``<node id>``, persistent messages, with publisher confirms. A
  message carries one ARI event — body = the event's JSON exactly as Asterisk sent it — or a run
  of consecutive events of one app (at most ``MAX_EVENTS_PER_MESSAGE``; what one Asterisk sends
  in a burst, e.g. a hangup's three): body = a JSON array of them, each exactly as sent, with
  headers ``lengths`` (each event's length in bytes) and ``event_types`` (each one's type). Use
  :func:`unpack_events`: it takes both forms. Fewer, larger messages are what makes the broker,
  the agent and the gateway's reader cheaper per call. Upgrading a cluster from before this form:
  the gateways first, then the agents (an older gateway would drop a message of several events).
* Headers of each message (so consumers need not parse the body): ``node_id``, ``app``,
  ``event_type`` (the key's words), ``agent_run`` (random id of the publishing agent process) and
  ``seq`` (1, 2, 3 … per event and ``agent_run``, in the order the agent received the events from
  ARI; a message of several events carries its first one's, the next ones follow on);
  ``message_id`` = ``<node_id>.<agent_run>.<seq>``. Delivery is at least once: after a broker
  failure the same ``seq`` may arrive twice; a gap in ``seq`` means the agent's buffer overflowed.
* The key's ``<EventType>`` of a message of several events is the first of their types that
  changes ownership (:data:`OWNERSHIP_EVENT_TYPES`), else the first one's
  (:func:`message_type`): bound on all of those types together, as the ownership queues are, a
  queue gets every message holding one of them (with the other events it carries); bound on one
  type only, it gets the messages whose key names that type (consumers that need every event of
  a type bind the app's key and look at ``event_types``).
* Consumers: the gateway binds ``stasis.app.<app>.#`` per app (all nodes, all events); tests and
  tools may bind narrower keys. Events for the internal link app use ``<app>`` = ``ariscale-link``.

The gateways' side, declared by every gateway (idempotent):

* ``ariscale.ownership.<node id>`` — durable queue per node bound to the event types that change
  ownership (``stasis.app.*.<node id>.<EventType>`` for each of :data:`OWNERSHIP_EVENT_TYPES`; the
  broker leaves every other event out), single active consumer, deleted after
  ``OWNERSHIP_QUEUE_EXPIRES_MS`` unused (a node gone for good). Declared by the node's agent before
  it publishes and by every gateway for every node in Consul. One gateway at a time consumes it, so
  the node's ownership changes and call index entries are applied in the node's order
  (:class:`gateway.events.tracking.StasisTracker`); each node's queue goes to one of the live
  gateways by rendezvous hashing (:mod:`gateway.events.shares`), so every gateway takes a share.
  Earlier versions had one queue for the whole cluster, ``ariscale.gateway.ownership``
  (``LEGACY_OWNERSHIP_QUEUE``): a gateway deletes it when it finds it.
* ``ariscale.app.<app>`` — durable queue per app bound to ``bus.app_binding(app)``, single active
  consumer, messages dropped after ``APP_QUEUE_TTL_MS``. Declared for every app known to Consul,
  so events wait there for the app's first instance. A gateway consumes it only while it has a
  websocket of the app, so one gateway at a time dispatches the app's events, in order
  (:class:`gateway.events.dispatch.Dispatcher`). A message is acked only once handed on: written to a
  local websocket, or published (with publisher confirms) to the gateway that has the instance.
  When no instance is connected anywhere, nothing consumes the queue and events wait.
* exchange ``ariscale.gateway`` (direct) and queue ``ariscale.gateway.<gateway id>`` (auto-delete)
  bound with the gateway id: events another gateway's dispatcher hands to one of this gateway's
  websockets, as the app sees them but without their number, with headers ``ariscale-app``,
  ``ariscale-instance``, ``ariscale-seq`` (the number) and ``ariscale-epoch`` (the id of the
  app's count it belongs to: a websocket closes when that changes). When that websocket has
  closed meanwhile, the event goes back to the app's queue (default exchange) with header
  ``ariscale-avoid`` naming the instance, and the dispatcher picks another one. Events forwarded
  to a gateway that crashed are lost with its websockets, but logged: the app gets them again
  when it reconnects with ``?after=`` (:mod:`gateway.events.sequence`).

Nobody else builds these strings: use the names and functions below.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STASIS_EXCHANGE = "ariscale.stasis"
STASIS_EXCHANGE_TYPE = "topic"
_PREFIX = "stasis.app"

HEADER_NODE_ID = "node_id"
HEADER_APP = "app"
HEADER_EVENT_TYPE = "event_type"
HEADER_AGENT_RUN = "agent_run"
HEADER_SEQ = "seq"
HEADER_LENGTHS = "lengths"  # a message of several events: each one's length in bytes, in order
HEADER_EVENT_TYPES = "event_types"  # … and each one's type
MAX_EVENTS_PER_MESSAGE = 16  # a burst of many: its first events wait while the gateway prepares the rest

GATEWAY_EXCHANGE = "ariscale.gateway"
LEGACY_OWNERSHIP_QUEUE = "ariscale.gateway.ownership"
# The event types that change who owns what, or the call index (gateway.events.tracking).
OWNERSHIP_EVENT_TYPES = frozenset(
    {
        "StasisStart", "StasisEnd", "ApplicationMoveFailed", "ChannelDestroyed", "BridgeDestroyed",
        "ChannelEnteredBridge", "ChannelLeftBridge", "PlaybackFinished", "RecordingFinished",
        "RecordingFailed",
    }
)  # fmt: skip
OWNERSHIP_QUEUE_EXPIRES_MS = 7 * 24 * 3600 * 1000
APP_QUEUE_TTL_MS = 300_000  # events nobody took for 5 min belong to calls hung up long ago
# Headers of an event one gateway forwards to another (or back to the app's queue).
APP_HEADER = "ariscale-app"
INSTANCE_HEADER = "ariscale-instance"
AVOID_HEADER = "ariscale-avoid"
SEQ_HEADER = "ariscale-seq"  # the event's number in its app's sequence (gateway.events.sequence)
EPOCH_HEADER = "ariscale-epoch"  # … and the id of that sequence (a new one after Redis lost it)


def event_id(headers: Mapping[str, object]) -> str | None:
    """The id of the event a message carries (``message_id``'s form), the same on every delivery
    of it; None when a header is missing (a publisher other than a node agent)."""
    parts = [headers.get(HEADER_NODE_ID), headers.get(HEADER_AGENT_RUN), headers.get(HEADER_SEQ)]
    if any(p is None or p == "" for p in parts):
        return None
    return ".".join(str(p) for p in parts)


@dataclass(frozen=True)
class CarriedEvent:
    """One event of a bus message: its text as Asterisk sent it, and the headers a message of
    this event alone would have (its own ``event_type`` and ``seq``)."""

    body: bytes
    headers: dict[str, object]

    @property
    def event_type(self) -> str | None:
        event_type = self.headers.get(HEADER_EVENT_TYPE)
        return event_type if isinstance(event_type, str) else None

    @property
    def event_id(self) -> str | None:
        return event_id(self.headers)


def pack_events(bodies: Sequence[bytes]) -> tuple[bytes, list[int]]:
    """The body of a message of several events (a JSON array of them as they are) and the
    ``lengths`` header that lets a consumer slice it without parsing it."""
    return b"[" + b",".join(bodies) + b"]", [len(body) for body in bodies]


def unpack_events(body: bytes, headers: Mapping[str, object]) -> list[CarriedEvent]:
    """The events a message carries, in order; ValueError when it claims several and its
    ``lengths`` do not cut its body into them."""
    lengths = headers.get(HEADER_LENGTHS)
    if lengths is None:
        return [CarriedEvent(body, dict(headers))]
    types = headers.get(HEADER_EVENT_TYPES)
    if (
        not isinstance(lengths, list)
        or not isinstance(types, list)
        or len(types) != len(lengths)
        or not all(isinstance(n, int) and n > 0 for n in lengths)
        or sum(lengths) + len(lengths) + 1 != len(body)
    ):
        raise ValueError(f"{HEADER_LENGTHS}/{HEADER_EVENT_TYPES} do not describe a body of {len(body)} bytes")
    common = {k: v for k, v in headers.items() if k not in (HEADER_LENGTHS, HEADER_EVENT_TYPES)}
    seq = headers.get(HEADER_SEQ)
    events, start = [], 1
    for index, (length, event_type) in enumerate(zip(lengths, types, strict=True)):
        own = {**common, HEADER_EVENT_TYPE: event_type}
        if isinstance(seq, int):
            own[HEADER_SEQ] = seq + index
        else:
            own.pop(HEADER_SEQ, None)  # no number to count on from: no id
        events.append(CarriedEvent(body[start : start + length], own))
        start += length + 1
    return events


def message_type(event_types: Sequence[str]) -> str:
    """The type word of the key of a message carrying events of these types, in order."""
    return next((t for t in event_types if t in OWNERSHIP_EVENT_TYPES), event_types[0])


def stasis_routing_key(app: str, node_id: str, event_type: str) -> str:
    """Key one node agent publishes one event under."""
    return f"{_PREFIX}.{_word(app)}.{_word(node_id)}.{_word(event_type)}"


def ownership_bindings(node_id: str) -> list[str]:
    """Bindings of a node's ownership queue: its events of the types that change ownership."""
    return [f"{_PREFIX}.*.{_word(node_id)}.{event_type}" for event_type in sorted(OWNERSHIP_EVENT_TYPES)]


def ownership_queue_name(node_id: str) -> str:
    """The queue of one node's events that change ownership."""
    return f"ariscale.ownership.{_word(node_id)}"


def ownership_queue_arguments() -> dict[str, object]:
    """Every declaration of an ownership queue must say the same (the broker refuses others)."""
    return {"x-single-active-consumer": True, "x-expires": OWNERSHIP_QUEUE_EXPIRES_MS}


def declare_ownership_queue(channel: Any, node_id: str) -> None:
    """Declare the node's ownership queue and its bindings on an AMQP channel (py-amqp's API), as
    its agent does before it publishes (the gateways learn of a new node a moment later, and the
    broker drops what no queue is bound for)."""
    name = ownership_queue_name(node_id)
    channel.queue_declare(name, durable=True, auto_delete=False, arguments=ownership_queue_arguments())
    for key in ownership_bindings(node_id):
        channel.queue_bind(name, STASIS_EXCHANGE, key)


def app_binding(app: str) -> str:
    """Binding that receives every event of ``app`` from every node."""
    return f"{_PREFIX}.{_word(app)}.#"


def app_node_binding(app: str, node_id: str) -> str:
    """Binding that receives every event of ``app`` from one node."""
    return f"{_PREFIX}.{_word(app)}.{_word(node_id)}.*"


def app_queue_name(app: str) -> str:
    """The queue an app's events wait in until one of its instances takes them."""
    return f"ariscale.app.{_word(app)}"


def gateway_queue_name(gateway_id: str) -> str:
    """The queue of events forwarded to one gateway's websockets."""
    if gateway_id == LEGACY_OWNERSHIP_QUEUE.rpartition(".")[2]:
        raise ValueError(f"gateway id {gateway_id!r} is reserved")
    return f"{GATEWAY_EXCHANGE}.{gateway_id}"


def parse_routing_key(key: str) -> tuple[str, str, str]:
    """``(app, node_id, event_type)`` of a stasis routing key; ValueError if it is not one."""
    parts = key.split(".")
    if len(parts) != 5 or ".".join(parts[:2]) != _PREFIX:
        raise ValueError(f"not a stasis routing key: {key!r}")
    return parts[2], parts[3], parts[4]


def _word(value: str) -> str:
    # App names are [A-Za-z0-9_-]: a dot or a wildcard would change the key's meaning.
    if not value or any(c in value for c in ".*#"):
        raise ValueError(f"invalid routing key word: {value!r}")
    return value
