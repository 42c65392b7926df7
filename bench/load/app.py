"""The app under load: answers every call (or answers, plays a sound and joins a conference).

The same code runs against the gateway and straight against one node's ARI: only the base URL,
the credentials and the app name differ. It records what the app sees: its ``answer`` latency,
each event's delay from Asterisk's timestamp to its arrival here, and each time its events
websocket dropped and was connected again.
"""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import websockets

log = logging.getLogger(__name__)

ANSWER = "answer"
CONFERENCE = "conference"
VARIANTS = (ANSWER, CONFERENCE)


@dataclass
class AppStats:
    """What the app measured during one run (cleared between runs)."""

    answer_ms: list[float] = field(default_factory=list)
    event_delay_ms: list[float] = field(default_factory=list)
    started: int = 0
    ended: int = 0
    errors: list[str] = field(default_factory=list)


def event_delay_ms(event: dict[str, Any], arrived: float) -> float | None:
    """Milliseconds from the event's Asterisk ``timestamp`` to ``arrived`` (epoch seconds)."""
    stamp = event.get("timestamp")
    if not isinstance(stamp, str):
        return None
    try:
        born = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None
    return 1000 * (arrived - born)


@dataclass
class Outage:
    """The events websocket down: from the moment it dropped until it was connected again
    (``time.monotonic()``; ``reconnected_at`` None while it is still down)."""

    dropped_at: float
    reconnected_at: float | None = None


def reconnects(outages: list[Outage], since: float) -> dict[str, list[float | None]]:
    """For each outage that began at or after ``since`` (monotonic), in order: seconds from the drop
    to connected again (``gap_s``) and from ``since`` to connected again (``after_s``); None for one
    still down."""
    later = [o for o in outages if o.dropped_at >= since]

    def seconds(start: float, end: float | None) -> float | None:
        return None if end is None else round(end - start, 2)

    return {
        "gap_s": [seconds(o.dropped_at, o.reconnected_at) for o in later],
        "after_s": [seconds(since, o.reconnected_at) for o in later],
    }


@dataclass(frozen=True)
class Target:
    """Where the app talks ARI: ``ari_url`` is ``http://host:port/ari``."""

    label: str
    ari_url: str
    app: str
    auth: tuple[str, str]

    @property
    def events_url(self) -> str:
        user, password = self.auth
        return f"{self.ari_url.replace('http', 'ws', 1)}/events?app={self.app}&api_key={user}:{password}"

    def resume_url(self, after: int | None) -> str:
        """The events URL, resuming after ``after`` (the gateway's ``ariscale_seq``) when given."""
        return self.events_url if after is None else f"{self.events_url}&after={after}"


class LoadApp:
    """One ARI app, one websocket, one pooled HTTP client."""

    def __init__(
        self,
        target: Target,
        variant: str = ANSWER,
        observers: tuple[Callable[[dict[str, Any]], None], ...] = (),
    ) -> None:
        self.target = target
        self.variant = variant
        self.observers = observers  # called with every event (the chaos run counts them)
        self.last_seq: int | None = None  # the last ``ariscale_seq`` seen: a reconnect resumes after it
        self.resume_refused = 0
        self.bridge = f"{target.app}-conf"
        self.stats = AppStats()
        self.connected = asyncio.Event()
        self.outages: list[Outage] = []  # every drop of the events websocket, oldest first
        self._client = httpx.AsyncClient(
            base_url=target.ari_url, auth=target.auth, timeout=30,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
        )  # fmt: skip
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self._client.aclose()

    def reset(self, variant: str) -> None:
        self.variant = variant
        self.stats = AppStats()

    async def prepare(self) -> None:
        """The conference bridge exists before the first caller (409: it already does)."""
        response = await self._client.post(f"/bridges/{self.bridge}", params={"type": "mixing"})
        if response.status_code not in (200, 409):
            raise RuntimeError(f"{self.target.label}: bridge {self.bridge}: {response.text}")

    async def run(self) -> None:
        """Read the app's events until cancelled, reconnecting if the websocket drops (through the
        gateway: resuming after the last number seen, or afresh if the gateway refuses that)."""
        while True:
            try:
                async with websockets.connect(self.target.resume_url(self.last_seq), max_size=None) as ws:
                    self._link_up()
                    async for raw in ws:
                        self._on_event(json.loads(raw), time.time())
            except websockets.InvalidStatus as exc:
                log.warning(
                    "%s: events websocket refused (after=%s): %s", self.target.label, self.last_seq, exc
                )
                if self.last_seq is not None:  # the gateway no longer knows the number: start afresh
                    self.resume_refused += 1
                    self.last_seq = None
            except (OSError, websockets.WebSocketException) as exc:
                log.warning("%s: events websocket: %s; reconnecting", self.target.label, exc)
            self._link_down()
            await asyncio.sleep(0.5)

    def _link_up(self) -> None:
        if self.outages and self.outages[-1].reconnected_at is None:
            self.outages[-1].reconnected_at = time.monotonic()
        self.connected.set()

    def _link_down(self) -> None:
        """The websocket closed (or a connect attempt failed): an outage starts if it was up."""
        if self.connected.is_set():
            self.outages.append(Outage(time.monotonic()))
        self.connected.clear()

    def _on_event(self, event: dict[str, Any], arrived: float) -> None:
        seq = event.get("ariscale_seq")
        if isinstance(seq, int):
            self.last_seq = seq
        for observe in self.observers:
            observe(event)
        delay = event_delay_ms(event, arrived)
        if delay is not None:
            self.stats.event_delay_ms.append(delay)
        kind = event.get("type")
        if kind == "StasisStart":
            self.stats.started += 1
            task = asyncio.create_task(self._handle_call(event["channel"]["id"]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif kind == "StasisEnd":
            self.stats.ended += 1

    async def _handle_call(self, channel: str) -> None:
        try:
            started = time.perf_counter()
            await self._request("POST", f"/channels/{channel}/answer")
            self.stats.answer_ms.append(1000 * (time.perf_counter() - started))
            if self.variant == CONFERENCE:
                await self._request("POST", f"/channels/{channel}/play", params={"media": "sound:beep"})
                await self._request("POST", f"/bridges/{self.bridge}/addChannel", params={"channel": channel})
        except (httpx.HTTPError, RuntimeError) as exc:
            self.stats.errors.append(f"{channel}: {exc}")

    async def _request(self, method: str, path: str, params: dict[str, str] | None = None) -> None:
        response = await self._client.request(method, path, params=params)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")


@contextlib.asynccontextmanager
async def running(app: LoadApp) -> Any:
    """The app connected and its bridge ready for as long as the block lasts."""
    reader = asyncio.create_task(app.run())
    try:
        await asyncio.wait_for(app.connected.wait(), 30)
        await app.prepare()
        yield app
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await app.close()
