"""Plain ARI access for tests: REST with httpx, events with a websocket per node."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

CONNECT_TIMEOUT = 10.0


@dataclass
class NodeEvents:
    """Every event one node sent for one app, with the node id attached."""

    node_id: str
    events: list[dict[str, Any]] = field(default_factory=list)


class StasisWatcher:
    """Subscribes ``app`` on every given node's ARI; optionally answers each call it sees."""

    def __init__(self, nodes: dict[str, str], user: str, password: str, app: str, answer: bool = True):
        self.nodes = nodes  # node id -> ARI base URL (http://host:port/ari)
        self.auth = (user, password)
        self.app = app
        self.answer = answer
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._connected: set[str] = set()  # node ids whose websocket is open

    def of_type(self, event_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [(node, ev) for node, ev in self.events if ev.get("type") == event_type]

    async def _all_connected(self, timeout: float) -> None:
        """Wait until every node's websocket is open; raise naming the URLs that never opened."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._connected != set(self.nodes):
            for task in self._tasks:
                if task.done():
                    task.result()  # re-raise a connection failure now
            if asyncio.get_running_loop().time() >= deadline:
                missing = sorted(self.nodes[n] for n in set(self.nodes) - self._connected)
                raise RuntimeError(
                    f"app {self.app}: no ARI websocket opened within {timeout:.0f} s to {', '.join(missing)}"
                )
            await asyncio.sleep(0.05)

    async def _watch(self, node_id: str, ari_url: str) -> None:
        ws_url = ari_url.replace("http://", "ws://") + f"/events?app={self.app}"
        headers = {"Authorization": httpx.BasicAuth(*self.auth)._auth_header}
        async with (
            websockets.connect(ws_url, additional_headers=headers) as ws,
            httpx.AsyncClient(base_url=ari_url, auth=self.auth, timeout=5) as rest,
        ):
            self._connected.add(node_id)
            async for raw in ws:
                event = json.loads(raw)
                self.events.append((node_id, event))
                if self.answer and event.get("type") == "StasisStart":
                    await rest.post(f"/channels/{event['channel']['id']}/answer")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["StasisWatcher"]:
        self._tasks = [asyncio.create_task(self._watch(n, url)) for n, url in self.nodes.items()]
        try:
            await self._all_connected(CONNECT_TIMEOUT)
            yield self
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def set_global(ari_url: str, auth: tuple[str, str], variable: str, value: str) -> None:
    async with httpx.AsyncClient(auth=auth, timeout=5) as client:
        response = await client.post(
            f"{ari_url}/asterisk/variable", params={"variable": variable, "value": value}
        )
        response.raise_for_status()


async def list_channels(ari_url: str, auth: tuple[str, str]) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(auth=auth, timeout=5) as client:
        response = await client.get(f"{ari_url}/channels")
        response.raise_for_status()
        channels: list[dict[str, Any]] = response.json()
        return channels


class AppEvents:
    """One instance of an app at the gateway: a plain ARI websocket collecting the app's events."""

    def __init__(self, gateway_url: str, auth: tuple[str, str]) -> None:
        self.url = gateway_url.replace("http://", "ws://") + f"/ari/events?app={auth[0]}"
        self.auth = auth
        self.events: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._open = asyncio.Event()

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == event_type]

    async def _listen(self) -> None:
        headers = {"Authorization": httpx.BasicAuth(*self.auth)._auth_header}
        async with websockets.connect(self.url, additional_headers=headers) as ws:
            self._open.set()
            async for raw in ws:
                self.events.append(json.loads(raw))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["AppEvents"]:
        self._task = asyncio.create_task(self._listen())
        opened = asyncio.create_task(self._open.wait())
        await asyncio.wait({self._task, opened}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            opened.cancel()
            self._task.result()  # the connection failed: say why
        try:
            yield self
        finally:
            opened.cancel()
            self._task.cancel()
            await asyncio.gather(self._task, opened, return_exceptions=True)
