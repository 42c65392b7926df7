"""One log line per step of a call on this node (Stasis in and out, bridges, hang-up).

These lines carry ``app``, ``channel`` (and ``bridge``) fields, plus the channel's Asterisk name
so ``make logs CALL=<channel id>`` can also find the call in the node's own Asterisk log.
"""

import logging
from typing import Any

from ariscale_common.bus import HEADER_APP, HEADER_EVENT_TYPE, HEADER_NODE_ID
from ariscale_common.dialplan import LINK_APP
from ariscale_common.logs import log_context
from node_agent.events import BusMessage
from node_agent.metrics import CALLS_STARTED

log = logging.getLogger("node_agent.calls")

CALL_STEPS = {
    "StasisStart": "entered Stasis",
    "StasisEnd": "left Stasis",
    "ChannelEnteredBridge": "entered bridge",
    "ChannelLeftBridge": "left bridge",
    "ChannelDestroyed": "hung up",
}


def log_call_step(message: BusMessage, event: dict[str, Any]) -> None:
    """Log ``message`` (``event``, parsed) if it is a step of a call; any other event is not
    logged (too many)."""
    step = CALL_STEPS.get(str(message.headers[HEADER_EVENT_TYPE]))
    if step is None:
        return
    channel = event.get("channel") or {}
    bridge = event.get("bridge") or {}
    app = str(message.headers[HEADER_APP])
    if message.headers[HEADER_EVENT_TYPE] == "StasisStart" and app != LINK_APP:
        CALLS_STARTED.labels(str(message.headers[HEADER_NODE_ID]), app).inc()
    with log_context(app=app, channel=channel.get("id"), bridge=bridge.get("id")):
        log.info(
            "%s%s %s (%s, caller %s%s)",
            "link leg " if app == LINK_APP else "",
            channel.get("id"),
            step,
            channel.get("name"),
            (channel.get("caller") or {}).get("number") or "-",
            f", cause {event['cause_txt']}" if event.get("cause_txt") else "",
        )
