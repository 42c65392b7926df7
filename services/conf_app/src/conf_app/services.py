"""The conference API's logic, over the app's own ARI (through the gateway): no FastAPI here."""

import asyncio
import contextlib
from typing import Any

from app_sdk import AriRequestError, CallContext
from app_sdk.context import node_of
from conf_app.conference import JOINED_AT, MUTED, ConferenceApp
from conf_app.exceptions import ConferenceNotFound, ParticipantNotFound
from conf_app.schemas import ConferencePublic, ConferencesPublic, ConferenceSummary, ParticipantPublic


class ConferenceService:
    def __init__(self, app: ConferenceApp) -> None:
        self.app = app

    async def list(self) -> ConferencesPublic:
        bridges = await self.app.ari("GET", "/bridges")
        data = [ConferenceSummary(id=b["id"], count=len(b.get("channels", []))) for b in bridges]
        return ConferencesPublic(data=data, count=len(data))

    async def get(self, conference_id: str) -> ConferencePublic:
        bridge = await self._bridge(conference_id)
        participants = await asyncio.gather(*(self._participant(c) for c in bridge.get("channels", [])))
        present = [p for p in participants if p is not None]
        return ConferencePublic(id=conference_id, participants=present, count=len(present))

    async def set_muted(self, conference_id: str, channel_id: str, muted: bool) -> ParticipantPublic:
        await self._member(conference_id, channel_id)
        # direction=in: what the participant says no longer reaches the others; they still hear.
        method = "POST" if muted else "DELETE"
        await self.app.ari(method, f"/channels/{channel_id}/mute", {"direction": "in"})
        await self.app.set_variable(CallContext(channel_id=channel_id), MUTED, "1" if muted else "")
        participant = await self._participant(channel_id)
        if participant is None:
            raise ParticipantNotFound(f"participant {channel_id} left the conference")
        return participant

    async def kick(self, conference_id: str, channel_id: str) -> None:
        await self._member(conference_id, channel_id)
        await self.app.hangup(CallContext(channel_id=channel_id), reason="normal")

    async def _bridge(self, conference_id: str) -> dict[str, Any]:
        try:
            bridge: dict[str, Any] = await self.app.ari("GET", f"/bridges/{conference_id}")
        except AriRequestError as exc:
            if exc.status == 404:
                raise ConferenceNotFound(f"no conference {conference_id!r}") from None
            raise
        return bridge

    async def _member(self, conference_id: str, channel_id: str) -> None:
        bridge = await self._bridge(conference_id)
        if channel_id not in bridge.get("channels", []):
            raise ParticipantNotFound(f"no participant {channel_id!r} in conference {conference_id!r}")

    async def _participant(self, channel_id: str) -> ParticipantPublic | None:
        context = CallContext(channel_id=channel_id)
        try:
            channel = await self.app.ari("GET", f"/channels/{channel_id}")
            muted = await self.app.get_variable(context, MUTED)
            joined = await self.app.get_variable(context, JOINED_AT)
        except AriRequestError:
            return None  # hung up while we looked
        return participant_of(channel, muted, joined)


def participant_of(channel: dict[str, Any], muted: str, joined_at: str) -> ParticipantPublic:
    """A participant from its channel and the conference's channel variables (unset: "")."""
    channel_id = str(channel["id"])
    joined = None
    with contextlib.suppress(ValueError):  # not set (yet): the join time is unknown, shown as null
        joined = float(joined_at)
    return ParticipantPublic(
        channel_id=channel_id,
        caller_id=str(channel.get("caller", {}).get("number", "")),
        node=node_of(channel_id),
        muted=muted == "1",
        joined_at=joined,
    )
