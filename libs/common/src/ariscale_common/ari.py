"""A small async client for one Asterisk node's ARI REST interface."""

from typing import Any

import httpx

from ariscale_common.request_ids import HEADER, current_request_id

# Query parameters as a mapping, or as pairs when a name repeats or order matters.
Params = dict[str, Any] | list[tuple[str, str]] | None


class AriError(Exception):
    """ARI answered with an error status, or could not be reached (``status`` is None then)."""

    def __init__(self, status: int | None, message: str, url: str) -> None:
        super().__init__(f"ARI {url}: {status or 'unreachable'} {message}")
        self.status = status
        self.message = message
        self.url = url


class AriTimeout(AriError):
    """The node took longer than the client's timeout to answer: slow, not necessarily gone."""


class AriClient:
    """REST calls against ``base_url`` (``http://host:port/ari``) with basic auth."""

    def __init__(self, base_url: str, user: str, password: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=(user, password),
            timeout=timeout,
            event_hooks={"request": [_pass_request_id]},
        )

    async def request(self, method: str, path: str, params: Params = None, json: Any = None) -> Any:
        """Send one request; return the decoded JSON body (None when empty); raise AriError."""
        try:
            query = tuple(params) if isinstance(params, list) else params
            response = await self._http.request(method, path, params=query, json=json)
        except httpx.HTTPError as exc:
            raise AriError(None, str(exc) or type(exc).__name__, f"{self.base_url}{path}") from exc
        if response.status_code >= 400:
            raise AriError(response.status_code, _error_message(response), f"{self.base_url}{path}")
        return response.json() if response.content else None

    async def send(
        self, method: str, path: str, params: list[tuple[str, str]], content: bytes | None, content_type: str
    ) -> httpx.Response:
        """Pass a request through unchanged; any status comes back, only unreachable raises AriError."""
        headers = {"Content-Type": content_type} if content else {}
        try:
            return await self._http.request(
                method, path, params=tuple(params), content=content, headers=headers
            )
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
            # Connected but no answer in time (a connect timeout is an unreachable node).
            raise AriTimeout(
                None, f"no answer within the timeout ({type(exc).__name__})", f"{self.base_url}{path}"
            ) from exc
        except httpx.HTTPError as exc:
            raise AriError(None, str(exc) or type(exc).__name__, f"{self.base_url}{path}") from exc

    async def get(self, path: str, params: Params = None) -> Any:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, params: Params = None, json: Any = None) -> Any:
        return await self.request("POST", path, params=params, json=json)

    async def delete(self, path: str, params: Params = None) -> Any:
        return await self.request("DELETE", path, params=params)

    async def aclose(self) -> None:
        await self._http.aclose()


async def _pass_request_id(request: httpx.Request) -> None:
    """The request id of the call being served travels on to the node."""
    request_id = current_request_id()
    if request_id:
        request.headers[HEADER] = request_id


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()
    return str(body.get("message", body)) if isinstance(body, dict) else str(body)
