"""Request ids: taken from the client's ``X-Request-Id`` or made here, logged, returned, passed on.

The middleware binds the id (and the channel or bridge named in the path) to the log context of
the request, writes one access line when the response starts, and echoes the id in the response.
:class:`~ariscale_common.ari.AriClient` sends it on to the node with every call made meanwhile.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ariscale_common.logs import log_context

HEADER = "x-request-id"
_MAX_LENGTH = 128
# A client's id is echoed into logs and headers: keep it to a safe alphabet and length.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_RESOURCE = re.compile(r"/(?P<kind>channels|bridges)/(?P<id>[^/?]+)")
_KIND_FIELD = {"channels": "channel", "bridges": "bridge"}
# Probes and scrapes every few seconds would drown the lines that matter.
QUIET_PATHS = frozenset({"/health", "/metrics"})

_request_id: ContextVar[str | None] = ContextVar("ariscale_request_id", default=None)
log = logging.getLogger("ariscale.access")


def current_request_id() -> str | None:
    """The id of the request being served by this task, if any."""
    return _request_id.get()


def accepted_or_new(given: str | None) -> str:
    """The client's id when it is sane, else a fresh one."""
    if given and _ACCEPTED.match(given):
        return given[:_MAX_LENGTH]
    return uuid.uuid4().hex


def path_fields(path: str) -> dict[str, str]:
    """The channel or bridge a request path is about (``/ari/channels/X/...`` → channel X)."""
    match = _RESOURCE.search(path)
    if match is None:
        return {}
    return {_KIND_FIELD[match["kind"]]: match["id"]}


class RequestIdMiddleware:
    """ASGI middleware (HTTP and websocket): bind, log and echo each request's id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = accepted_or_new(headers.get(HEADER))
        path: str = scope["path"]
        started = time.perf_counter()
        token = _request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER.encode(), request_id.encode())]
                if message["type"] == "http.response.start" and path not in QUIET_PATHS:
                    log.info(
                        "%s %s %s %.1f ms", scope.get("method", "WS"), path, message["status"],
                        (time.perf_counter() - started) * 1000,
                    )  # fmt: skip
            await send(message)

        try:
            with log_context(request_id=request_id, **path_fields(path)):
                await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)
