"""An ARI request's parameters wherever they arrive, read with Asterisk's own precedence.

Asterisk 22 (``ast_ari_callback`` in res/res_ari.c, then each generated ``*_cb`` and
``*_parse_body`` in res/res_ari_<resource>.c) reads a parameter from three places:

1. a form body (``application/x-www-form-urlencoded``) and the query string make one list, form
   first; the callback assigns every occurrence in turn, so the last one wins and the query beats
   the form;
2. a JSON body (``application/json``; only read when there is no form) then overrides both, field
   by field: a field that is present replaces the value even when it is not a string (Asterisk then
   sees NULL for a string parameter).

A parameter allowing several values is comma-separated in the query or form, and a JSON array (or
one string, not split) in a JSON body.
"""

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class Parameters:
    """The parameters of one request: query pairs, form pairs and the JSON body's fields."""

    query: list[tuple[str, str]]
    form: list[tuple[str, str]] = field(default_factory=list)
    json_body: dict[str, Any] | None = None

    @classmethod
    def parse(cls, query: list[tuple[str, str]], body: bytes | None, content_type: str) -> "Parameters":
        """Read a request as Asterisk does (a body that is neither form nor JSON object is ignored)."""
        kind = media_type(content_type)
        if not body:
            return cls(query)
        if kind == FORM:
            return cls(query, form=parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        if kind == JSON:
            try:
                decoded = json.loads(body)
            except ValueError:
                return cls(query)  # Asterisk answers 400 "Error parsing request body" itself
            return cls(query, json_body=decoded if isinstance(decoded, dict) else None)
        return cls(query)

    def value(self, name: str) -> str | None:
        """A single-valued string parameter, as the node will read it."""
        if self.json_body is not None and name in self.json_body:
            found = self.json_body[name]
            return found if isinstance(found, str) else None
        return self._last_pair(name)

    def values(self, name: str) -> list[str]:
        """A parameter allowing several values (``channel`` of addChannel), empty ones left out."""
        if self.json_body is not None and name in self.json_body:
            found = self.json_body[name]
            items = found if isinstance(found, list) else [found]
            return [item for item in items if isinstance(item, str) and item]
        return [item for item in (self._last_pair(name) or "").split(",") if item]

    def scalars(self, *excluded: str) -> list[tuple[str, str]]:
        """Every single-valued parameter as query pairs, precedence applied (for re-sending)."""
        merged: dict[str, str] = dict(self.form)
        merged.update(self.query)
        for name, found in (self.json_body or {}).items():
            if isinstance(found, bool):
                merged[name] = "true" if found else "false"
            elif isinstance(found, str | int | float):
                merged[name] = str(found)
        return [(name, found) for name, found in merged.items() if name not in excluded]

    def without(self, *names: str) -> "Parameters":
        """The same parameters with ``names`` taken out of every place they could arrive."""
        return Parameters(
            query=[(k, v) for k, v in self.query if k not in names],
            form=[(k, v) for k, v in self.form if k not in names],
            json_body=None
            if self.json_body is None
            else {k: v for k, v in self.json_body.items() if k not in names},
        )

    def encoded_body(self, original: bytes | None, content_type: str) -> bytes | None:
        """The body to send on after :meth:`without`: the form or JSON fields left."""
        kind = media_type(content_type)
        if kind == FORM:
            return urlencode(self.form).encode() or None
        if kind == JSON and self.json_body is not None:
            return json.dumps(self.json_body).encode()
        return original

    def _last_pair(self, name: str) -> str | None:
        found = None
        for key, value in (*self.form, *self.query):
            if key == name:
                found = value
        return found


def media_type(content_type: str) -> str:
    """``application/json; charset=utf-8`` → ``application/json``."""
    return content_type.split(";", 1)[0].strip().lower()
