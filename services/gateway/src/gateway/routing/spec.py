"""Asterisk's own ARI description (Swagger 1.1, as shipped by Asterisk 22 in ``ari_spec/``).

The gateway derives its routes from it instead of writing ~110 handlers, and serves it back at
``/ari/api-docs`` with ``basePath`` pointing at itself.
"""

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

RESOURCE_FILES = (
    "asterisk", "endpoints", "channels", "bridges", "recordings", "sounds", "playbacks",
    "deviceStates", "mailboxes", "events", "applications",
)  # fmt: skip


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # "path", "query" or "body"
    data_type: str
    required: bool
    description: str = ""
    allow_multiple: bool = False  # comma-separated in a query, an array in a JSON body
    allowed: tuple[str, ...] = ()  # allowableValues LIST
    minimum: float | None = None  # allowableValues RANGE
    maximum: float | None = None


@dataclass(frozen=True)
class Operation:
    resource: str  # "channels"
    path: str  # "/channels/{channelId}/answer", relative to /ari
    method: str  # "POST"
    nickname: str  # "answer"
    summary: str
    params: tuple[Param, ...]
    errors: tuple[tuple[int, str], ...]
    response_class: str
    websocket: bool = False

    @property
    def path_params(self) -> list[str]:
        return [p.name for p in self.params if p.location == "path"]

    @property
    def operation_id(self) -> str:
        return f"{self.resource}.{self.nickname}"


def static_segments_first(op: Operation) -> list[int]:
    """Sort key: /channels/externalMedia must be tried before /channels/{channelId}."""
    return [1 if segment.startswith("{") else 0 for segment in op.path.split("/")]


def load_document(resource: str) -> dict[str, Any]:
    text = resources.files("gateway.routing.ari_spec").joinpath(f"{resource}.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return document


@cache
def operations() -> tuple[Operation, ...]:
    """Every ARI operation of every resource, in the spec's order."""
    found: list[Operation] = []
    for resource in RESOURCE_FILES:
        for api in load_document(resource).get("apis", []):
            for op in api.get("operations", []):
                found.append(_operation(resource, api["path"], op))
    return tuple(found)


def _operation(resource: str, path: str, op: dict[str, Any]) -> Operation:
    params = tuple(
        Param(
            name=p["name"],
            location=p["paramType"],
            data_type=p.get("dataType", "string"),
            required=bool(p.get("required", False)),
            description=p.get("description", ""),
            allow_multiple=bool(p.get("allowMultiple", False)),
            **_allowable(p.get("allowableValues")),
        )
        for p in op.get("parameters", [])
    )
    errors = tuple((int(e["code"]), e.get("reason", "")) for e in op.get("errorResponses", []))
    return Operation(
        resource=resource,
        path=path,
        method=op["httpMethod"].upper(),
        nickname=op["nickname"],
        summary=op.get("summary", ""),
        params=params,
        errors=errors,
        response_class=op.get("responseClass", "void"),
        websocket=op.get("upgrade") == "websocket",
    )


def _allowable(allowable: dict[str, Any] | None) -> dict[str, Any]:
    if not allowable:
        return {}
    if allowable.get("valueType") == "LIST":
        return {"allowed": tuple(str(v) for v in allowable.get("values", []))}
    return {"minimum": allowable.get("min"), "maximum": allowable.get("max")}


def document_for(resource: str, base_path: str) -> dict[str, Any]:
    """A resource's Swagger document, pointing clients at ``base_path`` (the gateway's /ari)."""
    name = "resources" if resource == "resources" else resource
    if name != "resources" and name not in RESOURCE_FILES:
        raise KeyError(resource)
    document = load_document(name)
    document["basePath"] = base_path
    return document
