"""The admin bearer token guards every route but ``/health``: 401 without it, 403 when wrong."""

import httpx
import pytest

from tests.integration.registry.conftest import Registry

GUARDED = [
    ("GET", "/apps"),
    ("POST", "/apps"),
    ("GET", "/apps/some-app"),
    ("PATCH", "/apps/some-app"),
    ("DELETE", "/apps/some-app"),
    ("POST", "/apps/some-app/password"),
    ("GET", "/nodes"),
    ("POST", "/nodes/n1/drain"),
    ("DELETE", "/nodes/n1/drain"),
]


def anonymous(registry: Registry, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registry.app), base_url="http://r", headers=headers
    )


@pytest.mark.parametrize(("method", "path"), GUARDED)
async def test_no_token_is_401(registry: Registry, method: str, path: str) -> None:
    async with anonymous(registry) as client:
        response = await client.request(method, path, json={"name": "x"} if method == "POST" else None)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "admin-token-missing"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), GUARDED)
async def test_wrong_token_is_403(registry: Registry, method: str, path: str) -> None:
    async with anonymous(registry, Authorization="Bearer not-the-token") as client:
        response = await client.request(method, path, json={"name": "x"} if method == "POST" else None)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "admin-token-invalid"


async def test_basic_auth_is_not_a_bearer_token(registry: Registry) -> None:
    async with anonymous(registry) as client:
        response = await client.get("/apps", auth=("admin", registry.settings.admin_token))
    assert response.status_code == 401


async def test_health_and_docs_need_no_token(registry: Registry) -> None:
    async with anonymous(registry) as client:
        health = await client.get("/health")
        docs = await client.get("/docs")
        spec = await client.get("/openapi.json")
    assert health.status_code == 200 and health.json()["service"] == "registry"
    assert health.json()["links"]["database"]["state"] == "up"
    assert docs.status_code == 200 and spec.status_code == 200
    assert {"/apps", "/apps/{name}", "/nodes", "/nodes/{node_id}/drain"} <= set(spec.json()["paths"])
