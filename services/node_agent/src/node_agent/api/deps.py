"""What the routes need, as named dependencies taken from ``app.state`` (set by the lifespan)."""

from typing import Annotated

from fastapi import Depends

from ariscale_common import Health
from ariscale_common.deps import from_state
from node_agent.publisher import Publisher
from node_agent.settings import Settings

HealthDep = Annotated[Health, Depends(from_state("health"))]
PublisherDep = Annotated[Publisher, Depends(from_state("publisher"))]
SettingsDep = Annotated[Settings, Depends(from_state("settings"))]
