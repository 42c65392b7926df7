"""Consul's blocking queries, written once: read a path, then wait for its index to move on.

A blocking query (``?index=<last index>&wait=…``) answers as soon as what it reads changed, else
after the wait: a service follows Consul with one request per ``WAIT_S`` when nothing happens,
and hears of a change at once. :class:`ConsulQuery` is one such read followed for ever
(:meth:`ConsulQuery.follow`), with its backoff while Consul cannot be read. The HTTP is async
(httpx): nothing holds a thread, and stopping is immediate. Used by the gateway (its view of
nodes and apps) and the registry (its loops wake on a change instead of polling).
"""

import asyncio
import base64
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import httpx

from ariscale_common.background import BackgroundTask
from ariscale_common.health import Health, LinkState

WAIT_S = 20  # a blocking query's longest wait (Consul adds up to 1/16 of it)
MAX_BACKOFF_S = 10.0
# Between two answers of one query: an index that keeps changing must not become a busy loop.
MIN_GAP_S = 0.05

# (query name, None when it was answered, else what failed)
Report = Callable[[str, str | None], None]


class LinkReport:
    """A :data:`Report` for /health: the link is down while any query fails, up once all answer."""

    def __init__(self, health: Health, link: str = "consul") -> None:
        self._health = health
        self._link = link
        self._failing: set[str] = set()

    def __call__(self, query: str, failure: str | None) -> None:
        if failure is not None:
            self._failing.add(query)
            self._health.set(self._link, LinkState.DOWN, f"{query}: {failure}")
            return
        self._failing.discard(query)
        if not self._failing:
            self._health.set(self._link, LinkState.UP)


def consul_client(consul_url: str) -> httpx.AsyncClient:
    """An HTTP client for Consul whose reads outlast a blocking query's wait."""
    return httpx.AsyncClient(
        base_url=consul_url.rstrip("/"), timeout=httpx.Timeout(5.0, read=WAIT_S * 1.25 + 5)
    )


class ConsulQuery:
    """One Consul read followed by blocking queries: its last answer and the index it came with.

    ``kv=True`` reads a KV path: values are decoded from base64 to bytes (None when empty), as
    py-consul gives them and the discovery helpers take them.
    """

    def __init__(
        self, http: httpx.AsyncClient, name: str, path: str, *, kv: bool = False, **params: str
    ) -> None:
        self.name = name
        self.index = 0
        self.data: list[Any] = []
        self._http = http
        self._path = path
        self._kv = kv
        self._params = params

    async def get(self, index: int | None = None) -> tuple[int, list[Any]]:
        """The answer and its index, waiting until the index passes ``index`` (if given)."""
        params = dict(self._params)
        if index is not None:
            params |= {"index": str(index), "wait": f"{WAIT_S}s"}
        answer = await self._http.get(self._path, params=params)
        if answer.status_code == 404:  # a KV prefix with no key under it
            return int(answer.headers["X-Consul-Index"]), []
        answer.raise_for_status()
        new_index = int(answer.headers["X-Consul-Index"])
        body = answer.json()
        if not isinstance(body, list):
            raise TypeError(f"Consul answered {self._path} with {type(body).__name__}, not a list")
        if self._kv:
            for item in body:
                if isinstance(item, dict):
                    item["Value"] = base64.b64decode(item["Value"]) if item.get("Value") else None
        return new_index, body

    def take(self, index: int, data: list[Any]) -> bool:
        """Keep an answer; True when its index differs from the last one's (something changed).
        An index that went backwards is a restarted Consul: its answer is the truth now."""
        changed = index != self.index
        self.index, self.data = index, data
        return changed

    async def follow(self, on_change: Callable[[], None], report: Report, retry_s: float = 1.0) -> None:
        """Answer after answer, for ever: ``on_change`` after each that changed something,
        ``report`` after each answer or failure (then a backoff from ``retry_s``)."""
        delay = retry_s
        while True:
            try:
                index, data = await self.get(max(self.index, 1))
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                self.index = 0  # Consul may come back restarted, with indexes from 1 again
                report(self.name, f"{exc!r}; retry in {delay:.0f} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
                continue
            delay = retry_s
            if self.take(index, data):
                on_change()
            report(self.name, None)
            await asyncio.sleep(MIN_GAP_S)


class Following:
    """The follow loops of queries that share one HTTP client, started and stopped together (the
    client closed with them)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        queries: Sequence[ConsulQuery],
        on_change: Callable[[], None],
        report: Report,
        retry_s: float = 1.0,
    ) -> None:
        self._http = http
        self._tasks = [
            BackgroundTask(f"consul-{q.name}", partial(q.follow, on_change, report, retry_s)) for q in queries
        ]

    def start(self) -> None:
        for task in self._tasks:
            task.start()

    async def stop(self) -> None:
        for task in self._tasks:
            await task.stop()
        await self._http.aclose()
