"""``/apps``: register Stasis applications, their dialed numbers and their ARI credentials."""

from fastapi import APIRouter, Path, status

from registry.deps import AdminDep, AppServiceDep
from registry.schemas import (
    NAME_PATTERN,
    AppCreate,
    AppCreated,
    AppDetail,
    AppPublic,
    AppsPublic,
    AppUpdate,
    Credentials,
)

router = APIRouter(prefix="/apps", tags=["apps"], dependencies=[AdminDep])

AppNamePath = Path(pattern=NAME_PATTERN, description="The application's name.")


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_app(body: AppCreate, apps: AppServiceDep) -> AppCreated:
    """Register an app; the response carries its generated password, shown only this once."""
    return await apps.create(body)


@router.get("")
async def list_apps(apps: AppServiceDep) -> AppsPublic:
    return await apps.list_all()


@router.get("/{name}")
async def get_app(apps: AppServiceDep, name: str = AppNamePath) -> AppDetail:
    """The app and, per node in Consul, whether that node's Asterisk has it subscribed."""
    return await apps.get(name)


@router.patch("/{name}")
async def update_app(body: AppUpdate, apps: AppServiceDep, name: str = AppNamePath) -> AppPublic:
    return await apps.update(name, body)


@router.post("/{name}/password")
async def rotate_password(apps: AppServiceDep, name: str = AppNamePath) -> Credentials:
    """Replace the app's password; the new one is shown only in this response."""
    return await apps.rotate_password(name)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_app(apps: AppServiceDep, name: str = AppNamePath) -> None:
    await apps.delete(name)
