"""A small async client for one Asterisk node's ARI REST interface.

The gateway sends a node one request for nearly every request an app makes, so requests go over
:mod:`ariscale_common.http_connections` (bytes written in one go, answers parsed by httptools)
rather than a general HTTP client (httpx cost 1.19 ms of CPU a request here, aiohttp 0.22).
"""

import base64
import json as jsonlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ariscale_common.http_connections import (
    ConnectTimeout,
    HttpConnections,
    HttpFailure,
    ReadTimeout,
    Refused,
)
from ariscale_common.request_ids import HEADER, current_request_id

# Query parameters as a mapping, or as pairs when a name repeats or order matters.
Params = dict[str, Any] | list[tuple[str, str]] | None

# Below Asterisk's own keep-alive (http.conf session_keep_alive, 15 s): a connection is never
# reused at the moment the node closes it.
KEEPALIVE_S = 5.0
CONNECTIONS_PER_NODE = 100  # per process; the nodes' http.conf allows 2,000 sessions (agents' too)
# Left as they are in the request line, as a browser would: what else a path or a query value
# holds is percent-encoded (Asterisk decodes both).
_PATH_SAFE = "/@:!$&'()*,;=-._~"
_QUERY_SAFE = "/:@?"


class AriError(Exception):
    """ARI answered with an error status, or could not be reached (``status`` is None then)."""

    def __init__(self, status: int | None, message: str, url: str) -> None:
        super().__init__(f"ARI {url}: {status or 'unreachable'} {message}")
        self.status = status
        self.message = message
        self.url = url


class AriTimeout(AriError):
    """The node took longer than the client's timeout to answer: slow, not necessarily gone."""


class AriUnreachable(AriError):
    """Nothing listens at the node's address (connection refused): its Asterisk is not running,
    dead or restarting, and either way every resource it had is gone."""


@dataclass(frozen=True)
class NodeResponse:
    """A node's answer as it came: status, body and content type."""

    status: int
    content: bytes
    content_type: str


class AriClient:
    """REST calls against ``base_url`` (``http://host:port/ari``) with basic auth."""

    def __init__(self, base_url: str, user: str, password: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._base_path = urlsplit(self.base_url).path
        self._auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self._timeout = timeout
        self._http: HttpConnections | None = None  # made in the loop, at first use

    async def request(self, method: str, path: str, params: Params = None, json: Any = None) -> Any:
        """Send one request; return the decoded JSON body (None when empty); raise AriError."""
        body = None if json is None else jsonlib.dumps(json).encode()
        answer = await self._exchange(method, path, _pairs(params), body, "application/json")
        if answer.status >= 400:
            raise AriError(answer.status, _error_message(answer.content), f"{self.base_url}{path}")
        try:
            return jsonlib.loads(answer.content) if answer.content else None
        except ValueError as exc:
            raise AriError(None, f"not JSON: {answer.content[:200]!r}", f"{self.base_url}{path}") from exc

    async def send(
        self, method: str, path: str, params: list[tuple[str, str]], content: bytes | None, content_type: str
    ) -> NodeResponse:
        """Pass a request through unchanged; any status comes back, only unreachable raises AriError."""
        return await self._exchange(method, path, params, content, content_type)

    async def get(self, path: str, params: Params = None) -> Any:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, params: Params = None, json: Any = None) -> Any:
        return await self.request("POST", path, params=params, json=json)

    async def delete(self, path: str, params: Params = None) -> Any:
        return await self.request("DELETE", path, params=params)

    async def aclose(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    async def _exchange(
        self, method: str, path: str, params: list[tuple[str, str]], content: bytes | None, content_type: str
    ) -> NodeResponse:
        http = self._connections()
        request = self._request(method, path, params, content, content_type, http.host_header)
        try:
            answer = await http.request(request)
        except Refused as exc:
            raise AriUnreachable(None, str(exc), f"{self.base_url}{path}") from exc
        except ConnectTimeout as exc:
            raise AriError(None, str(exc), f"{self.base_url}{path}") from exc
        except ReadTimeout as exc:
            # Connected but no answer in time: slow, maybe busy, not gone.
            raise AriTimeout(None, str(exc), f"{self.base_url}{path}") from exc
        except HttpFailure as exc:
            raise AriError(None, str(exc), f"{self.base_url}{path}") from exc
        return NodeResponse(answer.status, answer.content, answer.content_type)

    def _request(
        self, method: str, path: str, params: list[tuple[str, str]], content: bytes | None, content_type: str,
        host: str,
    ) -> bytes:  # fmt: skip
        """The whole HTTP/1.1 request: head and body."""
        target = quote(self._base_path + path, safe=_PATH_SAFE)
        if params:
            target += "?" + urlencode(params, safe=_QUERY_SAFE)
        head = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"Authorization: {self._auth}"]
        if content:
            head.append(f"Content-Type: {content_type}")
        head.append(f"Content-Length: {len(content) if content else 0}")
        request_id = current_request_id()
        if request_id:
            head.append(f"{HEADER}: {request_id}")  # the request being served travels on to the node
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (content or b"")

    def _connections(self) -> HttpConnections:
        if self._http is None:
            self._http = HttpConnections(
                self.base_url, CONNECTIONS_PER_NODE, KEEPALIVE_S, connect_timeout=self._timeout,
                read_timeout=self._timeout,
            )  # fmt: skip
        return self._http


def _pairs(params: Params) -> list[tuple[str, str]]:
    """Query pairs; booleans as ARI writes them (``true``/``false``), other values as text."""
    if params is None:
        return []
    items = params.items() if isinstance(params, dict) else params
    pairs = []
    for name, value in items:
        for one in value if isinstance(value, list | tuple) else [value]:
            if one is not None:
                pairs.append((str(name), _text(one)))
    return pairs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_message(content: bytes) -> str:
    try:
        body = jsonlib.loads(content)
    except ValueError:
        return content.decode(errors="replace").strip()
    return str(body.get("message", body)) if isinstance(body, dict) else str(body)
