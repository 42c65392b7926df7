"""Prometheus' HTTP query API, for the dashboard's charts (``/api/v1/query_range``)."""

import time

import httpx

from registry.schemas import Series


class PrometheusError(Exception):
    """Prometheus did not answer, or refused the query."""


class PrometheusQuery:
    def __init__(self, url: str, timeout: float = 2.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout

    async def range(self, query: str, minutes: float, step_s: float, label: str) -> list[Series]:
        """One series per result of ``query`` over the last ``minutes``, named by its ``label``."""
        now = time.time()
        params = {
            "query": query,
            "start": f"{now - minutes * 60:.3f}",
            "end": f"{now:.3f}",
            "step": f"{step_s}",
        }
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.get(f"{self.url}/api/v1/query_range", params=params)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise PrometheusError(f"{self.url}: {exc}") from exc
        if body.get("status") != "success":
            raise PrometheusError(f"{query}: {body.get('error', response.status_code)}")
        return [
            Series(
                label=str(result["metric"].get(label, "all")),
                points=[(float(t), float(v)) for t, v in result["values"]],
            )
            for result in body["data"]["result"]
        ]
