"""One ARI request of an app as the gateway received it, and the answer it gives back."""

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import httpx

from gateway.routing.plans import Plan
from gateway.routing.spec import Operation
from gateway.routing.validation import effective_parameters


@dataclass(frozen=True)
class AriCall:
    """One ARI request of one app, as the gateway received it."""

    op: Operation
    plan: Plan
    app: str
    path: str  # with values, relative to /ari: "/channels/n1-17.3/answer"
    path_params: dict[str, str]
    query: list[tuple[str, str]]  # without api_key
    body: bytes | None
    content_type: str = "application/json"

    @cached_property
    def parameters(self) -> dict[str, Any]:
        """Every parameter as Asterisk reads it (form, query and JSON body: :mod:`.validation`)."""
        return effective_parameters(self.query, self.body, self.content_type)

    def query_value(self, name: str) -> str | None:
        """One parameter's value as the node will read it, wherever it was given."""
        value = self.parameters.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return ",".join(map(str, value)) if isinstance(value, list) else str(value)

    def query_without(self, *names: str) -> list[tuple[str, str]]:
        """The parameters other than ``names``, as a query (for a call rewritten without a body)."""
        return [(k, self.query_value(k) or "") for k in self.parameters if k not in names]


@dataclass(frozen=True)
class AriAnswer:
    status: int
    content: bytes
    content_type: str = "application/json"

    @classmethod
    def of(cls, response: httpx.Response) -> "AriAnswer":
        return cls(response.status_code, response.content, response.headers.get("content-type", ""))

    @classmethod
    def json(cls, status: int, body: Any) -> "AriAnswer":
        return cls(status, json.dumps(body).encode())

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def decoded(self) -> Any:
        return json.loads(self.content) if self.content else None
