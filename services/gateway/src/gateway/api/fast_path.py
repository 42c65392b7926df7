"""ARI operations served straight from ASGI: the gateway's hot path, without FastAPI's routing.

FastAPI's per-request machinery (matching ~110 routes one by one, solving dependencies, building
``Request`` objects) cost more of the gateway's CPU than forwarding the request itself. This
middleware sits innermost (inside request ids, metrics and limits) and answers every request
whose method and path name an ARI operation; anything else (the events websocket, ``api-docs``,
a wrong method, a trailing slash…) falls through to the FastAPI routes, which also stay the
OpenAPI description of these operations. Errors are rendered by the app's own exception handlers,
so both paths answer alike.
"""

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.routing.messages import AriAnswer, AriCall
from gateway.routing.plans import Plan, Policy, plan_for
from gateway.routing.spec import Operation, operations, static_segments_first

PREFIX = "/ari"
DEFAULT_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Served:
    """What :class:`gateway.metrics.RequestMetrics` reads from ``scope["route"]``, as for a route."""

    name: str


@dataclass(frozen=True)
class Match:
    op: Operation
    plan: Plan
    path_params: dict[str, str]


class OperationTable:
    """The ARI operations by method and number of path segments; static segments win."""

    def __init__(self, ops: tuple[Operation, ...]) -> None:
        self._table: dict[tuple[str, int], list[tuple[Operation, Plan, tuple[str, ...]]]] = {}
        for op in sorted(ops, key=static_segments_first):
            plan = plan_for(op)
            if plan.policy is Policy.EVENTS:
                continue  # the websocket: gateway.api.events
            segments = tuple(op.path.strip("/").split("/"))
            self._table.setdefault((op.method, len(segments)), []).append((op, plan, segments))

    def find(self, method: str, path: str) -> Match | None:
        """The operation ``method path`` (relative to /ari) names, with its path parameters."""
        parts = path.strip("/").split("/") if path.startswith("/") and not path.endswith("/") else None
        if not parts:
            return None
        for op, plan, segments in self._table.get((method, len(parts)), ()):
            params = _bind(segments, parts)
            if params is not None:
                return Match(op, plan, params)
        return None


def _bind(segments: tuple[str, ...], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for segment, part in zip(segments, parts, strict=True):
        if segment.startswith("{"):
            if not part:
                return None
            params[segment[1:-1]] = part
        elif segment != part:
            return None
    return params


class AriFastPath:
    """ASGI middleware: ARI operations answered here, everything else passed to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._table = OperationTable(operations())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX + "/"):
            await self.app(scope, receive, send)  # the lifespan, websockets, other paths
            return
        match = self._table.find(scope["method"], scope["path"][len(PREFIX) :])
        state = getattr(scope.get("app"), "state", None)
        if match is None or state is None or not hasattr(state, "ari"):
            await self.app(scope, receive, send)  # not an operation, or not started yet
            return
        scope["route"] = Served(match.op.operation_id)
        try:
            response = await self._answer(scope, receive, match, state)
        except Exception as exc:
            response = await _handled(scope, receive, exc)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, match: Match, state: Any) -> Response:
        headers = Headers(scope=scope)
        query = QueryParams(scope["query_string"])
        client = scope.get("client")
        app = await state.authenticator.authenticate(
            headers.get("authorization"), query.get("api_key"), client[0] if client else ""
        )
        body = await _body(receive)
        call = ari_call(scope, match.op, match.plan, app, match.path_params, body, query, headers)
        return as_response(await state.ari.handle(call))


def ari_call(
    scope: Scope, op: Operation, plan: Plan, app: str, path_params: dict[str, str], body: bytes,
    query: QueryParams, headers: Headers,
) -> AriCall:  # fmt: skip
    """The request as the routing layer takes it (``api_key`` is a credential, not a parameter)."""
    return AriCall(
        op=op,
        plan=plan,
        app=app,
        path=scope["path"][len(PREFIX) :],
        path_params=path_params,
        query=[(k, v) for k, v in query.multi_items() if k != "api_key"],
        body=body or None,
        content_type=headers.get("content-type", DEFAULT_CONTENT_TYPE),
    )


def as_response(answer: AriAnswer) -> Response:
    # No content, no content type (Asterisk's 204s have none).
    media_type = (answer.content_type or None) if answer.content else None
    return Response(answer.content, status_code=answer.status, media_type=media_type)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _handled(scope: Scope, receive: Receive, exc: Exception) -> Response:
    """The app's own exception handler's answer (a JSON error); re-raised when none applies
    (a bug: ServerErrorMiddleware logs it and answers 500, as for any route)."""
    handlers = scope["app"].exception_handlers
    for kind in type(exc).__mro__:
        if kind in (Exception, BaseException):
            break
        handler = handlers.get(kind)
        if handler is not None:
            response: Response = await handler(Request(scope, receive), exc)
            return response
    raise exc
