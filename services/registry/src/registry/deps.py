"""What a route needs, as named types: the services and the admin check."""

import secrets
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ariscale_common.deps import from_state
from registry.apps import AppService
from registry.dashboard import DashboardService
from registry.exceptions import AdminTokenInvalid, AdminTokenMissing
from registry.nodes import NodeService
from registry.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="The registry's ADMIN_TOKEN (ARISCALE_ADMIN_TOKEN).")


SettingsDep = Annotated[Settings, Depends(from_state("settings"))]
AppServiceDep = Annotated[AppService, Depends(from_state("apps"))]
NodeServiceDep = Annotated[NodeService, Depends(from_state("nodes"))]
DashboardDep = Annotated[DashboardService, Depends(from_state("dashboard"))]


async def require_admin(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """401 without a bearer token, 403 with one that is not the admin token."""
    if credentials is None:
        raise AdminTokenMissing()
    if not secrets.compare_digest(credentials.credentials.encode(), settings.admin_token.encode()):
        raise AdminTokenInvalid()


AdminDep = Depends(require_admin)
