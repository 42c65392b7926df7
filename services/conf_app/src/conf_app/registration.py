"""First start: register the app with the registry and keep its password where the SDK finds it."""

import logging
from pathlib import Path

import httpx

log = logging.getLogger(__name__)


class RegistrationError(RuntimeError):
    pass


async def ensure_registered(
    registry_url: str, admin_token: str, app_name: str, extension: str, credentials_dir: Path
) -> None:
    """Register ``app_name`` with ``extension`` unless it is; make sure its password is on file.

    The registry shows a password only once: when the app exists but the file is gone, the
    password is rotated so that this process (and the SDK's ``Config``) can log in again.
    """
    path = credentials_dir / app_name
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=registry_url, headers=headers, timeout=10) as registry:
        created = await registry.post("/apps", json={"name": app_name, "extensions": [extension]})
        if created.status_code == 201:
            log.info("registered app %s with extension %s", app_name, extension)
            _save(path, created.json()["credentials"]["password"])
            return
        if created.status_code != 409:
            raise RegistrationError(f"registering {app_name}: {created.status_code} {created.text}")
        if path.exists():
            return
        rotated = await registry.post(f"/apps/{app_name}/password")
        if rotated.status_code != 200:
            raise RegistrationError(f"rotating {app_name}'s password: {rotated.status_code} {rotated.text}")
        log.info("app %s was registered without a password on file: rotated it", app_name)
        _save(path, rotated.json()["password"])


def _save(path: Path, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(password)
