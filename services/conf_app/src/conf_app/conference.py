"""The conference itself, written with the SDK: whoever dials the extension joins one bridge."""

import asyncio
import time

from app_sdk import Application, CallContext, Config
from ariscale_common.logs import log_context

# Per-participant facts live on the channel itself (Asterisk is the truth), so every instance
# of the app, on any host, reports the same conference.
JOINED_AT = "CONF_JOINED_AT"
MUTED = "CONF_MUTED"


class ConferenceApp(Application):
    """Answer, join the conference bridge, announce joins and leaves to the others."""

    def __init__(self, config: Config, app_name: str, bridge_id: str) -> None:
        super().__init__(config, app_name, app_name)
        self.bridge_id = bridge_id
        self.here: set[str] = set()  # participants whose calls this instance handles

    async def on_start(self, context: CallContext) -> None:
        if str(context.channel.get("name", "")).startswith("Snoop/"):
            return  # someone listening in (e.g. to record a participant) is not a participant
        await self.get_or_create_bridge(context, self.bridge_id, "mixing")
        await self.answer(context)

    async def on_up(self, context: CallContext) -> None:
        if not str(context.channel.get("name", "")).startswith("Snoop/"):
            await self.bridge_add_channel(context, self.bridge_id)

    async def on_bridge_enter(self, context: CallContext, bridge: dict[str, object]) -> None:
        if bridge.get("id") != self.bridge_id:
            return
        self.here.add(context.channel_id)
        await self.set_variable(context, JOINED_AT, f"{time.time():.3f}")
        with log_context(app=self.app_name, channel=context.channel_id, bridge=self.bridge_id):
            self.log.info(
                "%s (%s, node %s) joined %s",
                context.channel_id,
                context.caller_number,
                context.node,
                self.bridge_id,
            )
        await self._announce("sound:conf-hasjoin", exclude=context.channel_id)

    async def on_end(self, context: CallContext) -> None:
        if context.channel_id in self.here:
            self.here.discard(context.channel_id)
            with log_context(app=self.app_name, channel=context.channel_id, bridge=self.bridge_id):
                self.log.info("%s left %s", context.channel_id, self.bridge_id)
            await self._announce("sound:conf-hasleft", exclude=context.channel_id)

    async def _announce(self, media: str, exclude: str) -> None:
        """Play ``media`` to every other participant, on whatever node (not to the one concerned)."""
        bridge = await self.ari("GET", f"/bridges/{self.bridge_id}")
        others = [c for c in bridge.get("channels", []) if c != exclude]
        await asyncio.gather(
            *(self.play(CallContext(channel_id=c), media, wait=False) for c in others), return_exceptions=True
        )
