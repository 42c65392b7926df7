"""One ARI request of an app as the gateway received it, and the answer it gives back."""

import json
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from ariscale_common.ari import NodeResponse
from gateway.routing.parameters import Parameters
from gateway.routing.plans import Plan
from gateway.routing.spec import Operation


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
    def params(self) -> Parameters:
        """Its parameters wherever they arrived (query, form or JSON body), as Asterisk reads them."""
        return Parameters.parse(self.query, self.body, self.content_type)

    def query_value(self, name: str) -> str | None:
        """A parameter's value from the query or the body (the body wins, as in Asterisk)."""
        return self.params.value(name)

    def with_params(self, names: tuple[str, ...], pairs: list[tuple[str, str]]) -> "AriCall":
        """The call with ``names`` taken out of query and body, and ``pairs`` set in the query."""
        rest = self.params.without(*names)
        return replace(
            self,
            query=[*rest.query, *pairs],
            body=rest.encoded_body(self.body, self.content_type),
        )


@dataclass(frozen=True)
class AriAnswer:
    status: int
    content: bytes
    content_type: str = "application/json"

    @classmethod
    def of(cls, response: NodeResponse) -> "AriAnswer":
        return cls(response.status, response.content, response.content_type)

    @classmethod
    def json(cls, status: int, body: Any) -> "AriAnswer":
        return cls(status, json.dumps(body).encode())

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def decoded(self) -> Any:
        return json.loads(self.content) if self.content else None
