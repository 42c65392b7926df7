"""Call control: answer, play, record, bridge… any ARI request, as the app, through the gateway."""

import asyncio
import logging
import uuid
from typing import Any

from app_sdk.client import AriRequestError, AriRest
from app_sdk.context import CallContext, Event


class CallControl:
    """The ARI requests of an app named ``app_name``; ``Application`` opens the REST client."""

    def __init__(self, app_name: str) -> None:
        self.app_name = app_name
        self.log = logging.getLogger(f"app_sdk.{app_name}")
        self._rest: AriRest | None = None
        # Playbacks someone awaits, by id: resolved by the event stream's PlaybackFinished.
        self._playbacks: dict[str, asyncio.Future[Event]] = {}

    def _playback_finished(self, event: Event) -> None:
        """Wake whoever awaits this playback, at once: play() may be awaiting inside this call's worker."""
        waiter = self._playbacks.pop(str(event.get("playback", {}).get("id")), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(event)

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
        """Hang the call up; a call already gone is fine."""
        await self._delete_if_present(f"/channels/{context.channel_id}", {"reason": reason})

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
            async with asyncio.timeout(timeout):
                done = await finished
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
        """Destroy the bridge; a bridge already gone is fine."""
        await self._delete_if_present(f"/bridges/{bridge_id}")

    async def _delete_if_present(self, path: str, params: dict[str, Any] | None = None) -> None:
        """DELETE ``path``; 404 means done already, any other refusal is logged and the app goes on."""
        try:
            await self.ari("DELETE", path, params)
        except AriRequestError as exc:
            if exc.status != 404:
                self.log.warning("app %s: %s was refused, it may still exist", self.app_name, exc)
