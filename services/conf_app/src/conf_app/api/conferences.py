"""``/conferences``: who is in, on which node; mute, unmute, kick."""

from fastapi import APIRouter, status

from conf_app.api.deps import ConferenceServiceDep
from conf_app.schemas import ConferencePublic, ConferencesPublic, ParticipantPublic

router = APIRouter(prefix="/conferences", tags=["conferences"])


@router.get("")
async def list_conferences(service: ConferenceServiceDep) -> ConferencesPublic:
    return await service.list()


@router.get("/{conference_id}")
async def get_conference(conference_id: str, service: ConferenceServiceDep) -> ConferencePublic:
    return await service.get(conference_id)


@router.post("/{conference_id}/participants/{channel_id}/mute")
async def mute(conference_id: str, channel_id: str, service: ConferenceServiceDep) -> ParticipantPublic:
    return await service.set_muted(conference_id, channel_id, True)


@router.post("/{conference_id}/participants/{channel_id}/unmute")
async def unmute(conference_id: str, channel_id: str, service: ConferenceServiceDep) -> ParticipantPublic:
    return await service.set_muted(conference_id, channel_id, False)


@router.delete("/{conference_id}/participants/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
async def kick(conference_id: str, channel_id: str, service: ConferenceServiceDep) -> None:
    await service.kick(conference_id, channel_id)
