"""ARI REST calls to the gateway (or to any single Asterisk: it is the same API)."""

from typing import Any

import httpx


class AriRequestError(Exception):
    """ARI refused a request; ``status`` and ``message`` are ARI's."""

    def __init__(self, status: int, message: str, method: str, path: str) -> None:
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status
        self.message = message


class AriRest:
    def __init__(self, base_url: str, user: str, password: str, timeout: float) -> None:
        self._http = httpx.AsyncClient(base_url=f"{base_url}/ari", auth=(user, password), timeout=timeout)

    async def call(
        self, method: str, path: str, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        clean = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        response = await self._http.request(method, path, params=clean, json=json)
        if response.status_code >= 400:
            raise AriRequestError(response.status_code, _message(response), method, path)
        return response.json() if response.content else None

    async def aclose(self) -> None:
        await self._http.aclose()


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    return str(body.get("message", body)) if isinstance(body, dict) else str(body)
