"""What the routes need, as named dependencies taken from ``app.state`` (set by the lifespan)."""

from typing import Annotated

from fastapi import Depends

from ariscale_common.deps import from_state
from conf_app.services import ConferenceService

ConferenceServiceDep = Annotated[ConferenceService, Depends(from_state("conferences"))]
