"""The Stasis event bus, written down once: exchange, routing keys, who publishes, who consumes.

Exchange ``ariscale.stasis`` (topic, durable). Routing key grammar::

    stasis.app.<app>.<node id>.<EventType>        e.g. stasis.app.conf.n1.StasisStart

* Publisher: the node agent of ``<node id>``, one message per ARI event, body = the event's JSON
  exactly as Asterisk sent it, persistent, with publisher confirms.
* Headers of each message (so consumers need not parse the body): ``node_id``, ``app``,
  ``event_type`` (the key's words), ``agent_run`` (random id of the publishing agent process) and
  ``seq`` (1, 2, 3 … per ``agent_run``, in the order the agent received the events from ARI);
  ``message_id`` = ``<node_id>.<agent_run>.<seq>``. Delivery is at least once: after a broker
  failure the same ``seq`` may arrive twice; a gap in ``seq`` means the agent's buffer overflowed.
* Consumers: the gateway binds ``stasis.app.<app>.#`` per app (all nodes, all events); tests and
  tools may bind narrower keys. Events for the internal link app use ``<app>`` = ``ariscale-link``.

Nobody else builds these strings: use the functions below.
"""

STASIS_EXCHANGE = "ariscale.stasis"
STASIS_EXCHANGE_TYPE = "topic"
_PREFIX = "stasis.app"

HEADER_NODE_ID = "node_id"
HEADER_APP = "app"
HEADER_EVENT_TYPE = "event_type"
HEADER_AGENT_RUN = "agent_run"
HEADER_SEQ = "seq"


def stasis_routing_key(app: str, node_id: str, event_type: str) -> str:
    """Key one node agent publishes one event under."""
    return f"{_PREFIX}.{_word(app)}.{_word(node_id)}.{_word(event_type)}"


def all_apps_binding() -> str:
    """Binding that receives every event of every app from every node."""
    return f"{_PREFIX}.#"


def app_binding(app: str) -> str:
    """Binding that receives every event of ``app`` from every node."""
    return f"{_PREFIX}.{_word(app)}.#"


def app_node_binding(app: str, node_id: str) -> str:
    """Binding that receives every event of ``app`` from one node."""
    return f"{_PREFIX}.{_word(app)}.{_word(node_id)}.*"


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
