"""An app at the gateway that checks its event sequence: answers its calls, resumes with ``after``.

Each connection's events are kept with their ``ariscale_seq``; :meth:`SequencedApp.connect` reconnects
(to any gateway) after the last number seen. :meth:`SequencedApp.numbers` is every number received
over all connections, in arrival order: no gap and no repeat means nothing lost, nothing twice.
"""

import asyncio
import contextlib
import json
from typing import Any

import httpx
import websockets

from gateway.events.sequence import SEQ_FIELD


class SequencedApp:
    def __init__(self, auth: tuple[str, str], answer: bool = True) -> None:
        self.auth = auth
        self.answer = answer
        self.received: list[dict[str, Any]] = []
        self._reader: asyncio.Task[None] | None = None
        self._ws: Any = None
        self._rest: httpx.AsyncClient | None = None
        self._answers: set[asyncio.Task[httpx.Response]] = set()

    @property
    def last(self) -> int | None:
        return self.received[-1][SEQ_FIELD] if self.received else None

    def numbers(self) -> list[int]:
        return [int(e[SEQ_FIELD]) for e in self.received]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.received if e.get("type") == event_type]

    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def connect(self, gateway_url: str, after: int | None = None) -> None:
        """Listen on ``gateway_url`` (after ``after``), answering calls through it; the previous
        connection, if any, must have ended."""
        await self._stop()
        resume = "" if after is None else f"&after={after}"
        url = gateway_url.replace("http://", "ws://") + f"/ari/events?app={self.auth[0]}{resume}"
        headers = {"Authorization": httpx.BasicAuth(*self.auth)._auth_header}
        self._ws = await websockets.connect(url, additional_headers=headers)
        self._rest = httpx.AsyncClient(base_url=f"{gateway_url}/ari", auth=self.auth, timeout=10)
        self._reader = asyncio.create_task(self._read(self._ws))

    async def _read(self, ws: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                event = json.loads(raw)
                self.received.append(event)
                if self.answer and event.get("type") == "StasisStart" and self._rest is not None:
                    answer = self._rest.post(f"/channels/{event['channel']['id']}/answer")
                    task = asyncio.create_task(answer)
                    self._answers.add(task)
                    task.add_done_callback(self._answers.discard)

    async def close(self) -> None:
        await self._stop()

    async def _stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        await asyncio.gather(*self._answers, return_exceptions=True)  # let them finish: no half-sent request
        if self._rest is not None:
            await self._rest.aclose()
        self._reader = self._ws = self._rest = None


def calls_whole(received: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each channel's event types, for the channels whose StasisStart or StasisEnd is missing."""
    kinds: dict[str, list[str]] = {}
    for event in received:
        channel = event.get("channel")
        if isinstance(channel, dict):
            kinds.setdefault(str(channel["id"]), []).append(str(event["type"]))
    return {c: k for c, k in kinds.items() if "StasisStart" not in k or "StasisEnd" not in k}
