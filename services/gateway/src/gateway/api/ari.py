"""Every ARI operation of Asterisk's spec, served under /ari: routes derived, not hand-written."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from gateway.api.fast_path import PREFIX, ari_call, as_response
from gateway.deps import AriGatewayDep, CurrentApp
from gateway.routing.plans import Policy, plan_for
from gateway.routing.spec import Operation, operations, static_segments_first

_SWAGGER_TYPES = {"int": "integer", "long": "integer", "double": "number", "boolean": "boolean"}


def build_router() -> APIRouter:
    router = APIRouter()
    for op in sorted(operations(), key=static_segments_first):
        plan = plan_for(op)
        if plan.policy is Policy.EVENTS:
            continue  # the websocket is served by api/events.py
        router.add_api_route(
            PREFIX + op.path,
            _endpoint(op),
            methods=[op.method],
            name=op.operation_id,
            operation_id=op.operation_id,
            summary=op.summary,
            tags=[f"ari {op.resource}"],
            openapi_extra=_openapi(op),
            response_class=Response,
        )
    return router


def _endpoint(op: Operation) -> Callable[..., Awaitable[Response]]:
    plan = plan_for(op)

    async def endpoint(request: Request, app: CurrentApp, gateway: AriGatewayDep) -> Response:
        # Served by gateway.api.fast_path; this route is its OpenAPI entry and its fallback.
        path_params = {k: str(v) for k, v in request.path_params.items()}
        body = await request.body()
        call = ari_call(
            request.scope, op, plan, app, path_params, body, request.query_params, request.headers
        )
        return as_response(await gateway.handle(call))

    return endpoint


def _openapi(op: Operation) -> dict[str, Any]:
    parameters = [
        {
            "name": p.name,
            "in": p.location,
            "required": p.required or p.location == "path",
            "description": p.description,
            "schema": {"type": _SWAGGER_TYPES.get(p.data_type, "string")},
        }
        for p in op.params
        if p.location in ("path", "query")
    ]
    extra: dict[str, Any] = {"parameters": parameters}
    if any(p.location == "body" for p in op.params):
        extra["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
    if op.errors:
        extra["responses"] = {str(code): {"description": reason} for code, reason in op.errors}
    return extra
