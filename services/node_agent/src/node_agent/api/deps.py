"""What the routes need, as named dependencies taken from ``app.state`` (set by the lifespan)."""

from typing import Annotated

from fastapi import Depends, Request

from ariscale_common import Health
from node_agent.publisher import Publisher
from node_agent.settings import Settings


def _health(request: Request) -> Health:
    health: Health = request.app.state.health
    return health


def _publisher(request: Request) -> Publisher:
    publisher: Publisher = request.app.state.publisher
    return publisher


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


HealthDep = Annotated[Health, Depends(_health)]
PublisherDep = Annotated[Publisher, Depends(_publisher)]
SettingsDep = Annotated[Settings, Depends(_settings)]
