"""``RESTRequest`` messages on the events websocket, answered with ``RESTResponse`` (Asterisk 22.4+).

The message format is Asterisk's (rest-api/api-docs/events.json; parsing as in
res/ari/ari_websocket_requests.c): ``method``, ``uri`` relative to /ari (with an optional query
string), optional ``query_strings`` ([{"name", "value"}]), ``message_body`` with its
``content_type`` (JSON, or a form whose fields count as query parameters), and ``transaction_id`` /
``request_id`` echoed back. Each request goes through the same routing, ownership and isolation as
HTTP, as the app the websocket authenticated.
"""

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from ariscale_common.errors import ApiError, error_body
from gateway.events.identity import ClusterIdentity
from gateway.outages import OUTAGES, outage_body
from gateway.routing.matching import match
from gateway.routing.messages import AriAnswer, AriCall
from gateway.routing.parameters import FORM, JSON
from gateway.routing.plans import plan_for

Handle = Callable[[AriCall], Awaitable[AriAnswer]]


class BadRequest(Exception):
    """A RESTRequest Asterisk would refuse before routing it (400 with this reason)."""


class WebsocketRequests:
    def __init__(self, handle: Handle, identity: ClusterIdentity) -> None:
        self._handle = handle
        self._identity = identity

    async def answer(self, app: str, text: str) -> str | None:
        """The RESTResponse to one websocket message; None when it is not a request at all."""
        try:
            message = json.loads(text)
        except ValueError:
            return self._response(app, {}, 400, "Failed to parse request message JSON")
        if not isinstance(message, dict):
            return self._response(app, {}, 400, "Failed to parse request message JSON")
        try:
            call = self._call(app, message)
        except BadRequest as exc:
            return self._response(app, message, 400, "Bad request", {"message": str(exc)})
        if isinstance(call, AriAnswer):
            return self._response(app, message, call.status, None, call.decoded())
        answer = await self._answer(call)
        return self._response(app, message, answer.status, None, answer.decoded() if answer.content else None)

    async def _answer(self, call: AriCall) -> AriAnswer:
        """As HTTP would answer: Asterisk's answer, or the gateway's error body."""
        try:
            return await self._handle(call)
        except ApiError as exc:
            return AriAnswer.json(exc.status, error_body(exc.error_id, exc.message, exc.details))
        except OUTAGES as exc:
            return AriAnswer.json(503, outage_body(exc))

    def _call(self, app: str, message: dict[str, Any]) -> AriCall | AriAnswer:
        if not message.get("type"):
            raise BadRequest("No 'type' property.")
        if message["type"] != "RESTRequest":
            raise BadRequest("Unknown request type.")
        uri = message.get("uri")
        if not isinstance(uri, str) or not uri:
            raise BadRequest("Empty or missing 'uri' property.")
        method = message.get("method")
        if not isinstance(method, str) or method.upper() not in ("GET", "POST", "PUT", "DELETE"):
            raise BadRequest("Unknown or missing 'method' property.")
        path, _, query_string = uri.partition("?")
        query = parse_qsl(query_string, keep_blank_values=True) + _query_strings(message)
        body, content_type = _body(message, query)
        path = "/" + path.lstrip("/")
        found = match(method, path)
        if found is None:
            return AriAnswer.json(404, {"message": "Resource not found"})
        if found.op is None:
            return AriAnswer.json(405, {"message": "Invalid method"})
        return AriCall(
            op=found.op,
            plan=plan_for(found.op),
            app=app,
            path=path,
            path_params=found.path_params,
            query=[(k, v) for k, v in query if k != "api_key"],
            body=body,
            content_type=content_type,
        )

    def _response(
        self, app: str, message: dict[str, Any], status: int, reason: str | None, body: Any = None
    ) -> str:
        response: dict[str, Any] = {
            "type": "RESTResponse",
            "transaction_id": _text(message.get("transaction_id")),
            "request_id": _text(message.get("request_id")),
            "status_code": status,
            "reason_phrase": reason or _phrase(status),
            "uri": _text(message.get("uri")),
        }
        if body is not None:
            response["content_type"] = JSON
            response["message_body"] = json.dumps(body, separators=(",", ":"))
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        response.update(application=app, timestamp=now, asterisk_id=self._identity.entity_id)
        return json.dumps(response)


def _query_strings(message: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = message.get("query_strings")
    if pairs is None:
        return []
    if not isinstance(pairs, list) or not all(isinstance(p, dict) and "name" in p for p in pairs):
        raise BadRequest("Unable to parse 'query_strings' array.")
    return [(str(p["name"]), str(p.get("value", ""))) for p in pairs]


def _body(message: dict[str, Any], query: list[tuple[str, str]]) -> tuple[bytes | None, str]:
    """The JSON body, or a form's fields appended to ``query`` (there they come last, and win)."""
    body = message.get("message_body")
    if not isinstance(body, str) or not body:
        return None, JSON
    content_type = message.get("content_type")
    if not content_type:
        raise BadRequest("No 'content_type' for 'message_body'.")
    if content_type == FORM:
        query += parse_qsl(body, keep_blank_values=True)
        return None, JSON
    if content_type != JSON:
        raise BadRequest("Unknown content type.")
    try:
        json.loads(body)
    except ValueError:
        raise BadRequest("Unable to parse 'message_body' as 'application/json'.") from None
    return body.encode(), JSON


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
