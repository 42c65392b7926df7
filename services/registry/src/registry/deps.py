"""What a route needs, as named types: the services and the admin check."""

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from registry.apps import AppService
from registry.dashboard import DashboardService
from registry.exceptions import AdminTokenInvalid, AdminTokenMissing
from registry.nodes import NodeService
from registry.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="The registry's ADMIN_TOKEN (ARISCALE_ADMIN_TOKEN).")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_app_service(request: Request) -> AppService:
    service: AppService = request.app.state.apps
    return service


def get_node_service(request: Request) -> NodeService:
    service: NodeService = request.app.state.nodes
    return service


def get_dashboard(request: Request) -> DashboardService:
    service: DashboardService = request.app.state.dashboard
    return service


SettingsDep = Annotated[Settings, Depends(get_settings)]
DashboardDep = Annotated[DashboardService, Depends(get_dashboard)]
AppServiceDep = Annotated[AppService, Depends(get_app_service)]
NodeServiceDep = Annotated[NodeService, Depends(get_node_service)]


def require_admin(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """401 without a bearer token, 403 with one that is not the admin token."""
    if credentials is None:
        raise AdminTokenMissing()
    if not secrets.compare_digest(credentials.credentials.encode(), settings.admin_token.encode()):
        raise AdminTokenInvalid()


AdminDep = Depends(require_admin)
