"""What the conference API answers, named by role."""

from pydantic import BaseModel


class ParticipantPublic(BaseModel):
    channel_id: str
    caller_id: str
    node: str
    muted: bool
    joined_at: float | None


class ConferencePublic(BaseModel):
    id: str
    participants: list[ParticipantPublic]
    count: int


class ConferenceSummary(BaseModel):
    id: str
    count: int


class ConferencesPublic(BaseModel):
    data: list[ConferenceSummary]
    count: int
