"""The base class of a Stasis application: hooks for a call's life, over the gateway's event stream.

Events arrive over the ARI websocket of the gateway (``/ari/events?app=<name>``), which
reconnects by itself. Each call gets its own worker (:mod:`app_sdk.call_workers`): one call's
events are handled in order, different calls concurrently, so a slow handler never stalls other
calls. An exception in a handler is logged with the call's id and the app carries on. What the app
can do to a call (answer, play, bridge…) is :class:`app_sdk.call_control.CallControl`.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

import httpx
import websockets

from app_sdk.call_control import CallControl
from app_sdk.call_workers import CallWorkers
from app_sdk.client import AriRest
from app_sdk.config import Config
from app_sdk.context import CallContext, Event
from ariscale_common.calls import call_of, channel_of

EventHandler = Callable[[CallContext | None, Event], Awaitable[None]]


class Application(CallControl):
    def __init__(self, config: Config, app_id: str, app_name: str) -> None:
        super().__init__(app_name)
        self.config = config
        self.app_id = app_id
        self.calls: dict[str, CallContext] = {}
        self.connected = asyncio.Event()
        self._handlers: dict[str, list[EventHandler]] = {}
        self._workers = CallWorkers(self._handle, self.log, app_name)

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
                    await asyncio.gather(receiving, return_exceptions=True)  # stopping: how it ended is moot
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
        await self._workers.close()
        if self._rest is not None:
            await self._rest.aclose()

    # -- event routing --------------------------------------------------------------------------

    def _route(self, event: Event) -> None:
        if event.get("type") == "PlaybackFinished":
            self._playback_finished(event)
        self._workers.put(event)

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
        """The context of the channel this event's call is about (None for a bridge's or nobody's)."""
        channel_id = channel_of(call_of(event))
        if channel_id is None:
            return None
        if event.get("type") == "StasisStart":
            self.calls[channel_id] = CallContext.from_event(event)
        context = self.calls.get(channel_id)
        if context is not None and isinstance(event.get("channel"), dict):
            context.channel = event["channel"]
        return context

    async def _up(self, context: CallContext) -> None:
        if not context.state.get("_answered"):
            context.state["_answered"] = True
            await self.on_up(context)
