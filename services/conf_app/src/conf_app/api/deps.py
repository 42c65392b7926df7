"""What the routes need, as named dependencies taken from ``app.state`` (set by the lifespan)."""

from typing import Annotated

from fastapi import Depends, Request

from conf_app.services import ConferenceService


def _conferences(request: Request) -> ConferenceService:
    service: ConferenceService = request.app.state.conferences
    return service


ConferenceServiceDep = Annotated[ConferenceService, Depends(_conferences)]
