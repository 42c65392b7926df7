"""ARI websockets: one per app, each reconnecting by itself, every event handed to the publisher.

Why one websocket per app rather than one for all (``/events?app=a,b,c``): Asterisk fixes a
websocket's app list when it connects, and an app is deactivated on the node as soon as its
websocket closes (calls entering ``Stasis(app)`` then fail at once). With one shared websocket,
adding or removing an app would mean reconnecting it and briefly deactivating *every* app; with
one per app, a change touches only that app. The cost is one connection per app per node.

Asterisk keeps one websocket per app name per node: a second one for the same name replaces
ours (we receive ``ApplicationReplaced``), so two agents must never serve one node.
"""

import asyncio
import base64
import json
import logging
from collections.abc import Iterable
from functools import partial
from typing import Protocol

import websockets

from ariscale_common import AriSettings, Health, LinkState
from ariscale_common.ari import AriClient, AriError
from ariscale_common.backoff import Backoff
from node_agent.settings import TimingSettings

log = logging.getLogger(__name__)

MAX_EVENT_BYTES = 16 * 1024 * 1024
# GET /applications/{app}: which list holds each kind of event source.
_EVENT_SOURCE_FIELDS = (
    ("channel", "channel_ids"), ("bridge", "bridge_ids"),
    ("endpoint", "endpoint_ids"), ("deviceState", "device_names"),
)  # fmt: skip


class EventSink(Protocol):
    def submit(self, ws_app: str, raw: str) -> None: ...


class SubscriptionListener(Protocol):
    def subscription_up(self, app: str) -> None: ...
    def subscription_down(self, app: str) -> None: ...


def events_url(ari_url: str, app: str) -> str:
    base = ari_url.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return f"{base}/events?app={app}&subscribeAll=false"


class AppSubscription:
    """One app's websocket on this node, reconnected with backoff until cancelled."""

    def __init__(
        self,
        app: str,
        ari: AriSettings,
        node_id: str,
        health: Health,
        sink: EventSink,
        listener: SubscriptionListener,
        timing: TimingSettings,
    ) -> None:
        self.app = app
        self.link = f"ari:{app}"
        self._url = events_url(ari.url, app)
        token = base64.b64encode(f"{ari.user}:{ari.password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}"}
        self._node_id = node_id
        self._health = health
        self._sink = sink
        self._listener = listener
        self._backoff = Backoff(timing.reconnect_min_s, timing.reconnect_max_s)

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self._connect_once()
                except Exception:  # a bug here must not end the app's subscription for good
                    log.exception("%s app %s: websocket failure", self._node_id, self.app)
                    self._health.set(self.link, LinkState.DOWN, "internal error")
                delay = self._backoff.next()
                log.info("%s app %s: reconnecting in %.1f s", self._node_id, self.app, delay)
                await asyncio.sleep(delay)
        finally:
            self._health.forget(self.link)

    async def _connect_once(self) -> None:
        self._health.set(self.link, LinkState.CONNECTING)
        try:
            async with websockets.connect(
                self._url,
                additional_headers=self._headers,
                open_timeout=3,
                ping_interval=5,
                ping_timeout=5,
                max_size=MAX_EVENT_BYTES,
            ) as ws:
                self._health.set(self.link, LinkState.UP)
                log.info("%s app %s: subscribed", self._node_id, self.app)
                self._backoff.reset()
                self._listener.subscription_up(self.app)
                try:
                    async for raw in ws:
                        text = raw if isinstance(raw, str) else raw.decode()
                        self._sink.submit(self.app, text)
                        self._watch_replacement(text)
                finally:
                    self._listener.subscription_down(self.app)
            detail = "websocket closed by Asterisk"
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            detail = f"{type(exc).__name__}: {exc}"
        self._health.set(self.link, LinkState.DOWN, detail)

    def _watch_replacement(self, text: str) -> None:
        if '"ApplicationReplaced"' in text and json.loads(text).get("type") == "ApplicationReplaced":
            log.error("%s app %s: another websocket took this app over", self._node_id, self.app)
            self._health.set(self.link, LinkState.DOWN, "replaced by another websocket for this app")


class Subscriptions:
    """Keeps exactly one :class:`AppSubscription` task per wanted app (plus the permanent ones)."""

    def __init__(
        self,
        ari: AriSettings,
        node_id: str,
        health: Health,
        sink: EventSink,
        listener: SubscriptionListener,
        timing: TimingSettings,
        permanent: Iterable[str] = (),
    ) -> None:
        self._node_id = node_id
        self._ari = ari
        self._new_subscription = partial(
            AppSubscription,
            ari=ari,
            node_id=node_id,
            health=health,
            sink=sink,
            listener=listener,
            timing=timing,
        )
        self._permanent = frozenset(permanent)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cleanups: set[asyncio.Task[None]] = set()

    @property
    def apps(self) -> set[str]:
        return set(self._tasks)

    def ensure(self, apps: set[str]) -> None:
        """Subscribe ``apps`` (and the permanent ones); close the websockets of the others."""
        wanted = apps | self._permanent
        for app in sorted(set(self._tasks) - wanted):
            log.info("%s app %s: unsubscribing", self._node_id, app)
            self._tasks.pop(app).cancel()
            cleanup = asyncio.create_task(self._forget_event_sources(app), name=f"forget-{app}")
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
        for app in sorted(wanted - set(self._tasks)):
            sub = self._new_subscription(app)
            self._tasks[app] = asyncio.create_task(sub.run(), name=f"ari-ws-{app}")

    async def _forget_event_sources(self, app: str) -> None:
        """Drop what the removed app subscribed to: Asterisk keeps an app's subscriptions after its
        websocket closes and hands them to the next app of the same name."""
        client = AriClient(self._ari.url, self._ari.user, self._ari.password, timeout=5.0)
        try:
            state = await client.get(f"/applications/{app}")
            sources = [
                f"{scheme}:{resource}"
                for scheme, field in _EVENT_SOURCE_FIELDS
                for resource in (state.get(field, []) if isinstance(state, dict) else [])
            ]
            if sources:
                await client.delete(
                    f"/applications/{app}/subscription", params={"eventSource": ",".join(sources)}
                )
                log.info("%s app %s: dropped its event sources %s", self._node_id, app, ", ".join(sources))
        except AriError as exc:
            if exc.status != 404:  # 404: Asterisk already forgot the app
                log.warning("%s app %s: could not drop its event sources: %s", self._node_id, app, exc)
        finally:
            await client.aclose()

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
