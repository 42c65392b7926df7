"""Requests refused before routing: over-long URLs, headers and bodies, and paths Asterisk's parser would
read differently from ours (control characters, encoded slashes).

A pure ASGI middleware, so it covers the REST routes and the events websocket alike; the answer
is the usual JSON error (a websocket is closed before it is accepted, i.e. HTTP 403).
"""

import json
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from ariscale_common.errors import error_body
from ariscale_common.http_protocol import MAX_URL_BYTES

MAX_HEADER_BYTES = 16384
MAX_BODY_BYTES = 40960  # Asterisk's own limit (MAX_CONTENT_LENGTH in main/http.c)
# %00-%1F, %7F and %2F, percent-encoded in the raw path (decoded they are a different path).
_ODD_ESCAPES = re.compile(rb"%(?:[01][0-9a-fA-F]|7[fF]|2[fF])")


class RequestLimits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            problem = _problem(scope)
            if problem is not None:
                await _refuse(scope, send, *problem)
                return
        await self.app(scope, receive, send)


def _problem(scope: Scope) -> tuple[int, str, str] | None:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    if len(raw_path) + len(scope.get("query_string", b"")) > MAX_URL_BYTES:
        return 414, "uri-too-long", f"the URL is longer than {MAX_URL_BYTES} bytes"
    if sum(len(k) + len(v) for k, v in scope.get("headers", [])) > MAX_HEADER_BYTES:
        return 431, "headers-too-large", f"the headers are larger than {MAX_HEADER_BYTES} bytes"
    length = dict(scope.get("headers", [])).get(b"content-length", b"0")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return (
            413,
            "body-too-large",
            f"the body is larger than {MAX_BODY_BYTES} bytes (or its length unreadable)",
        )
    if _ODD_ESCAPES.search(raw_path) or any(ord(c) < 0x20 or ord(c) == 0x7F for c in scope["path"]):
        return 400, "invalid-path", "the path has an encoded slash or a control character"
    return None


async def _refuse(scope: Scope, send: Send, status: int, error_id: str, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        return
    body = json.dumps(error_body(error_id, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
