"""The base class of a Stasis application: hooks for a call's life, and call control.

Events arrive over the ARI websocket of the gateway (``/ari/events?app=<name>``), which
reconnects by itself. Each call gets its own worker: one call's events are handled in order,
different calls concurrently, so a slow handler never stalls other calls. An exception in a
handler is logged with the call's id and the app carries on.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import websockets

from app_sdk.client import AriRequestError, AriRest
from app_sdk.config import Config
from app_sdk.context import CallContext

Event = dict[str, Any]
EventHandler = Callable[[CallContext | None, Event], Awaitable[None]]

_APP_KEY = ""  # events that belong to no call are handled by one worker of their own


class Application:
    def __init__(self, config: Config, app_id: str, app_name: str) -> None:
        self.config = config
        self.app_id = app_id
        self.app_name = app_name
        self.log = logging.getLogger(f"app_sdk.{app_name}")
        self.calls: dict[str, CallContext] = {}
        self.connected = asyncio.Event()
        self._rest: AriRest | None = None
        self._handlers: dict[str, list[EventHandler]] = {}
        self._queues: dict[str, asyncio.Queue[Event]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._playbacks: dict[str, asyncio.Future[Event]] = {}

    # -- hooks: override what you need ----------------------------------------------------------

    async def on_start(self, context: CallContext) -> None:
        """A call entered the app (StasisStart); usually still ringing."""

    async def on_up(self, context: CallContext) -> None:
        """The call was answered."""

    async def on_dtmf(self, context: CallContext, digit: str) -> None:
        """The caller pressed a key."""

    async def on_playback_finished(self, context: CallContext, playback: Event) -> None:
        """A playback on the call ended."""

    async def on_bridge_enter(self, context: CallContext, bridge: Event) -> None:
        """The call entered a bridge."""

    async def on_bridge_leave(self, context: CallContext, bridge: Event) -> None:
        """The call left a bridge."""

    async def on_end(self, context: CallContext) -> None:
        """The call left the app (StasisEnd): hung up, or moved elsewhere."""

    def on(self, event_type: str) -> Callable[[EventHandler], EventHandler]:
        """Decorator: also run ``handler(context, event)`` for every event of ``event_type``."""

        def register(handler: EventHandler) -> EventHandler:
            self._handlers.setdefault(event_type, []).append(handler)
            return handler

        return register

    # -- running --------------------------------------------------------------------------------

    def run(self) -> None:
        """Serve calls until interrupted (Ctrl-C)."""
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(self.serve())

    async def serve(self, stop: asyncio.Event | None = None) -> None:
        """Receive and handle events until ``stop`` is set, reconnecting whenever the link drops."""
        stop = stop or asyncio.Event()
        base_url = self.config.resolved_gateway_url()
        password = self.config.password_for(self.app_name)
        self._rest = AriRest(base_url, self.app_name, password, self.config.request_timeout)
        delay = self.config.reconnect_min
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                receiving = asyncio.create_task(self._receive(base_url, password))
                await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    receiving.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await receiving
                    break
                if receiving.exception() is None:
                    delay = self.config.reconnect_min  # a clean close after a good session
                else:
                    self.log.warning(
                        "event stream lost (%s); reconnecting in %.1f s", receiving.exception(), delay
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.reconnect_max)
        finally:
            stopping.cancel()
            await self._shutdown()

    async def _receive(self, base_url: str, password: str) -> None:
        url = base_url.replace("http", "ws", 1) + f"/ari/events?app={self.app_name}"
        auth = {"Authorization": httpx.BasicAuth(self.app_name, password)._auth_header}
        async with websockets.connect(url, additional_headers=auth, open_timeout=10) as ws:
            self.connected.set()
            self.log.info("app %s connected to %s", self.app_name, base_url)
            try:
                async for raw in ws:
                    self._route(json.loads(raw))
            finally:
                self.connected.clear()

    async def _shutdown(self) -> None:
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
        if self._rest is not None:
            await self._rest.aclose()

    # -- event routing --------------------------------------------------------------------------

    def _route(self, event: Event) -> None:
        if event.get("type") == "PlaybackFinished":
            waiter = self._playbacks.pop(str(event.get("playback", {}).get("id")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(event)  # at once: play() may be awaiting inside this call's worker
        key = _call_key(event)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            self._workers[key] = asyncio.create_task(self._work(key, queue), name=f"call {key}")
        queue.put_nowait(event)

    async def _work(self, key: str, queue: "asyncio.Queue[Event]") -> None:
        while True:
            event = await queue.get()
            try:
                await self._handle(event)
            except Exception:
                self.log.exception(
                    "app %s, call %s: handler for %s failed", self.app_name, key or "-", event.get("type")
                )
            if event.get("type") == "StasisEnd" and key and queue.empty():
                self._queues.pop(key, None)
                self._workers.pop(key, None)
                return

    async def _handle(self, event: Event) -> None:
        kind = event.get("type", "")
        context = self._context(event)
        if context is not None:
            if kind == "StasisStart":
                await self.on_start(context)
                if context.channel.get("state") == "Up":
                    await self._up(context)
            elif kind == "ChannelStateChange" and event["channel"].get("state") == "Up":
                await self._up(context)
            elif kind == "ChannelDtmfReceived":
                await self.on_dtmf(context, str(event.get("digit", "")))
            elif kind == "PlaybackFinished":
                await self.on_playback_finished(context, event.get("playback", {}))
            elif kind == "ChannelEnteredBridge":
                await self.on_bridge_enter(context, event.get("bridge", {}))
            elif kind == "ChannelLeftBridge":
                await self.on_bridge_leave(context, event.get("bridge", {}))
            elif kind == "StasisEnd":
                context.ended = True
                self.calls.pop(context.channel_id, None)
                await self.on_end(context)
        for handler in self._handlers.get(kind, []):
            await handler(context, event)

    def _context(self, event: Event) -> CallContext | None:
        key = _call_key(event)
        if not key:
            return None
        if event.get("type") == "StasisStart":
            self.calls[key] = CallContext.from_event(event)
        context = self.calls.get(key)
        if context is not None and isinstance(event.get("channel"), dict):
            context.channel = event["channel"]
        return context

    async def _up(self, context: CallContext) -> None:
        if not context.state.get("_answered"):
            context.state["_answered"] = True
            await self.on_up(context)

    # -- call control ---------------------------------------------------------------------------

    async def ari(
        self, method: str, path: str, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        """Any ARI request, for what the helpers below do not cover."""
        if self._rest is None:
            raise RuntimeError("the application is not running: call run() or serve() first")
        return await self._rest.call(method, path, params, json)

    async def answer(self, context: CallContext) -> None:
        await self.ari("POST", f"/channels/{context.channel_id}/answer")

    async def hangup(self, context: CallContext, reason: str = "normal") -> None:
        with contextlib.suppress(AriRequestError):  # already gone is fine
            await self.ari("DELETE", f"/channels/{context.channel_id}", {"reason": reason})

    async def ring(self, context: CallContext) -> None:
        await self.ari("POST", f"/channels/{context.channel_id}/ring")

    async def play(self, context: CallContext, media: str, wait: bool = True, timeout: float = 120) -> Event:
        """Play ``media`` (e.g. ``sound:beep``) to the call; by default until it has finished."""
        return await self._play(f"/channels/{context.channel_id}", media, wait, timeout)

    async def bridge_play(
        self, bridge_id: str, media: str, wait: bool = False, timeout: float = 120
    ) -> Event:
        """Play ``media`` to everyone in the bridge, on every node it spans."""
        return await self._play(f"/bridges/{bridge_id}", media, wait, timeout)

    async def _play(self, target: str, media: str, wait: bool, timeout: float) -> Event:
        playback_id = uuid.uuid4().hex
        finished: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        if wait:
            self._playbacks[playback_id] = finished
        try:
            playback: Event = await self.ari("POST", f"{target}/play/{playback_id}", {"media": media})
            if not wait:
                return playback
            done = await asyncio.wait_for(finished, timeout)
            final: Event = done.get("playback", playback)
            return final
        finally:
            self._playbacks.pop(playback_id, None)

    async def record(self, context: CallContext, name: str, format: str = "wav", **options: Any) -> Event:
        params = {"name": name, "format": format, **options}
        recording: Event = await self.ari("POST", f"/channels/{context.channel_id}/record", params)
        return recording

    async def send_dtmf(self, context: CallContext, dtmf: str) -> None:
        await self.ari("POST", f"/channels/{context.channel_id}/dtmf", {"dtmf": dtmf})

    async def hold(self, context: CallContext) -> None:
        await self.ari("POST", f"/channels/{context.channel_id}/hold")

    async def unhold(self, context: CallContext) -> None:
        await self.ari("DELETE", f"/channels/{context.channel_id}/hold")

    async def mute(self, context: CallContext, direction: str = "both") -> None:
        await self.ari("POST", f"/channels/{context.channel_id}/mute", {"direction": direction})

    async def unmute(self, context: CallContext, direction: str = "both") -> None:
        await self.ari("DELETE", f"/channels/{context.channel_id}/mute", {"direction": direction})

    async def start_moh(self, context: CallContext, moh_class: str | None = None) -> None:
        await self.ari("POST", f"/channels/{context.channel_id}/moh", {"mohClass": moh_class})

    async def stop_moh(self, context: CallContext) -> None:
        await self.ari("DELETE", f"/channels/{context.channel_id}/moh")

    async def set_variable(self, context: CallContext, name: str, value: str) -> None:
        await self.ari("POST", f"/channels/{context.channel_id}/variable", {"variable": name, "value": value})

    async def get_variable(self, context: CallContext, name: str, default: str = "") -> str:
        """The channel variable's value; ``default`` when it is not set (ARI answers 404 then)."""
        try:
            answer = await self.ari("GET", f"/channels/{context.channel_id}/variable", {"variable": name})
        except AriRequestError as exc:
            if exc.status == 404:
                return default
            raise
        return str(answer.get("value", default))

    async def originate(self, endpoint: str, **params: Any) -> Event:
        """Call ``endpoint``; the new channel enters this app when answered."""
        channel: Event = await self.ari(
            "POST", "/channels", {"endpoint": endpoint, "app": self.app_name, **params}
        )
        return channel

    async def snoop(self, context: CallContext, spy: str = "both", whisper: str = "none") -> Event:
        params = {"spy": spy, "whisper": whisper, "app": self.app_name}
        channel: Event = await self.ari("POST", f"/channels/{context.channel_id}/snoop", params)
        return channel

    # -- bridges --------------------------------------------------------------------------------

    async def get_or_create_bridge(
        self, context: CallContext | None, bridge_id: str, kind: str = "mixing"
    ) -> Event:
        """The bridge ``bridge_id``, created if nobody has yet (concurrent callers get the same one)."""
        try:
            bridge: Event = await self.ari("POST", f"/bridges/{bridge_id}", {"type": kind})
        except AriRequestError as exc:
            if exc.status != 409:
                raise
            bridge = await self.ari("GET", f"/bridges/{bridge_id}")
        return bridge

    async def bridge_add_channel(self, context: CallContext, bridge_id: str) -> None:
        await self.ari("POST", f"/bridges/{bridge_id}/addChannel", {"channel": context.channel_id})

    async def bridge_remove_channel(self, context: CallContext, bridge_id: str) -> None:
        await self.ari("POST", f"/bridges/{bridge_id}/removeChannel", {"channel": context.channel_id})

    async def destroy_bridge(self, bridge_id: str) -> None:
        with contextlib.suppress(AriRequestError):
            await self.ari("DELETE", f"/bridges/{bridge_id}")


def _call_key(event: Event) -> str:
    """The call an event belongs to: its channel, or the channel a playback/recording runs on."""
    channel = event.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    for field in ("playback", "recording"):
        target = str((event.get(field) or {}).get("target_uri", ""))
        if target.startswith("channel:"):
            return target.removeprefix("channel:")
    return _APP_KEY
