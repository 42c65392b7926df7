# kombu ships partial type hints: its constructors and methods are unannotated.
# mypy: disable-error-code="no-untyped-call"
"""What the events tests drive: gateways under uvicorn in threads, a bus publisher standing in for
the node agents, and plain websocket clients (not the project's SDK)."""

import asyncio
import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
import websockets
from kombu.connection import Connection
from kombu.entity import Exchange
from kombu.messaging import Producer

from ariscale_cluster.services import GATEWAY_WS_PROTOCOL
from ariscale_common.bus import (
    STASIS_EXCHANGE,
    STASIS_EXCHANGE_TYPE,
    app_queue_name,
    declare_ownership_queue,
    stasis_routing_key,
)
from gateway.events.sequence import SEQ_FIELD
from gateway.main import create_app
from gateway.settings import Settings
from node_agent.events import bus_message, outgoing


class GatewayServer:
    """One gateway process's worth: ``create_app`` under uvicorn, in a thread of this process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        # The gateway's own websocket protocol, as the cluster runs it (coalesced frames included).
        app = create_app(settings)
        config = uvicorn.Config(app, log_level="warning", ws=GATEWAY_WS_PROTOCOL, lifespan="on")
        self._server = uvicorn.Server(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._server.serve(sockets=[self._sock])

    @property
    def app(self) -> Any:
        """The gateway's ASGI app (its ``state`` holds the running parts)."""
        return self._server.config.app

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def events_url(self, app: str, password: str, apps: str | None = None, after: int | None = None) -> str:
        resume = "" if after is None else f"&after={after}"
        return f"ws://127.0.0.1:{self.port}/ari/events?app={apps or app}&api_key={app}:{password}{resume}"

    def start(self, timeout: float = 20.0) -> "GatewayServer":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.02)
        return self

    async def stop_async(self) -> None:
        await asyncio.to_thread(self.stop)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(30)
        self._sock.close()
        # One left running would go on consuming the bus beside the next test's gateways.
        if self._thread.is_alive():
            name = self.settings.gateway_id
            raise RuntimeError(f"gateway {name} did not stop within 30 s; its tasks:\n{self._awaiting()}")

    def _awaiting(self) -> str:
        """Where each task of the gateway's loop waits, down its chain of awaits."""
        if self._loop is None:
            return "(no loop)"
        lines = []
        for task in list(asyncio.all_tasks(self._loop)):
            lines.append(f"{task.get_name()}{' (cancelling)' if task.cancelling() else ''}:")
            awaited: Any = task.get_coro()
            while awaited is not None:
                frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
                if frame is not None:
                    lines.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
                awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
        return "\n".join(lines)


class BusPublisher:
    """Publishes ARI events exactly as ``ariscale_common.bus`` says the node agents do."""

    def __init__(self, amqp_url: str) -> None:
        self._conn = Connection(amqp_url, transport_options={"confirm_publish": True})
        self._exchange = Exchange(STASIS_EXCHANGE, type=STASIS_EXCHANGE_TYPE, durable=True)
        self._lock = threading.Lock()
        self._nodes: set[str] = set()  # whose ownership queue it declared
        self._agent_run = uuid.uuid4().hex[:12]
        self._seq = 0
        with self._lock:
            self._producer = Producer(self._conn.channel(), exchange=self._exchange)
            self._exchange(self._producer.channel).declare()

    def publish_sync(self, app: str, node: str, event: dict[str, Any]) -> None:
        with self._lock:
            self._declare_node(node)
            self._producer.publish(
                json.dumps(event),
                routing_key=stasis_routing_key(app, node, event["type"]),
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )

    def _declare_node(self, node: str) -> None:
        if node not in self._nodes:
            declare_ownership_queue(self._producer.channel, node)
            self._nodes.add(node)

    async def publish_together(self, app: str, node: str, *events: dict[str, Any]) -> None:
        """The events in one message, with their headers, as a node's agent sends a burst."""

        def publish_message() -> None:
            with self._lock:
                self._declare_node(node)
                numbered = []
                for event in events:
                    self._seq += 1
                    numbered.append(bus_message(json.dumps(event), app, node, self._agent_run, self._seq))
                (message,) = outgoing(numbered)
                self._producer.publish(
                    message.body,
                    routing_key=message.routing_key,
                    headers=message.headers,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                )

        await asyncio.to_thread(publish_message)

    async def publish(self, app: str, node: str, *events: dict[str, Any]) -> None:
        def publish_all() -> None:
            for event in events:
                self.publish_sync(app, node, event)

        await asyncio.to_thread(publish_all)

    def queue_ready(self, app: str) -> bool:
        """The app's queue exists (a gateway declared it), so events published now wait in it."""
        return self.waiting(app) is not None

    def waiting(self, app: str) -> int | None:
        """How many messages wait in the app's queue (not counting those out to a consumer);
        None when it does not exist."""
        with self._lock:
            channel = self._conn.channel()
            try:
                return int(channel.queue_declare(app_queue_name(app), passive=True).message_count)
            except Exception:
                return None
            finally:
                with contextlib.suppress(Exception):
                    channel.close()

    def close(self) -> None:
        with self._lock:
            self._conn.release()


class EventStream:
    """A plain websocket on ``/ari/events``, collecting what arrives: the events without their
    number (as the nodes sent them), and the numbers apart."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.events: list[dict[str, Any]] = []
        self.seqs: list[int | None] = []
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> "EventStream":
        self._ws = await websockets.connect(self.url)
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self._ws:
                event = json.loads(raw)
                self.seqs.append(event.pop(SEQ_FIELD, None))
                self.events.append(event)

    def closed_by_gateway(self) -> tuple[int, str] | None:
        """The gateway's close code and reason once it has closed the websocket; else None."""
        if self._task is None or not self._task.done():
            return None
        return int(self._ws.close_code), str(self._ws.close_reason)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def channels(self) -> set[str]:
        return {e["channel"]["id"] for e in self.events if "channel" in e}

    def of_channel(self, channel_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("channel", {}).get("id") == channel_id]


@contextlib.asynccontextmanager
async def streams(*urls: str) -> AsyncIterator[list[EventStream]]:
    opened = [await EventStream(url).open() for url in urls]
    try:
        yield opened
    finally:
        for stream in opened:
            await stream.close()


def call_events(app: str, channel_id: str, middle: int = 3) -> list[dict[str, Any]]:
    """One call's events as a node sends them: StasisStart, ``middle`` more, StasisEnd, destroyed."""
    channel = {"id": channel_id, "name": f"PJSIP/edge-{channel_id}", "state": "Ring"}
    events: list[dict[str, Any]] = [
        {"type": "StasisStart", "application": app, "channel": channel, "args": []}
    ]
    events += [
        {"type": "ChannelVarset", "application": app, "channel": channel, "variable": "N", "value": str(i)}
        for i in range(middle)
    ]
    events.append({"type": "StasisEnd", "application": app, "channel": channel})
    events.append({"type": "ChannelDestroyed", "application": app, "channel": channel, "cause": 16})
    return events
