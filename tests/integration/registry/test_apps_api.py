"""``/apps`` on a real database (SQLite and PostgreSQL) and a real Consul: happy paths and every error."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ariscale_common.passwords import verify_password
from tests.integration.registry.conftest import KvGet, Registry


async def create(client: httpx.AsyncClient, name: str, *extensions: str, **extra: Any) -> dict[str, Any]:
    response = await client.post("/apps", json={"name": name, "extensions": list(extensions), **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_error(response: httpx.Response, status: int, error_id: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == error_id, body
    assert body["message"]
    return body


async def stored_hash(registry: Registry, name: str) -> str:
    engine = create_async_engine(registry.settings.database_url)
    try:
        async with engine.connect() as conn:
            row = await conn.execute(text("SELECT password_hash FROM apps WHERE name = :n"), {"n": name})
            return str(row.scalar_one())
    finally:
        await engine.dispose()


async def test_create_shows_the_password_once_and_stores_only_its_hash(
    registry: Registry, app_name: str, extension: str, kv_get: KvGet
) -> None:
    created = await create(registry.client, app_name, extension, description="conference")

    assert created["name"] == app_name
    assert created["extensions"] == [extension]
    assert created["description"] == "conference"
    assert created["enabled"] is True
    password = created["credentials"]["password"]
    assert created["credentials"]["username"] == app_name
    assert len(password) >= 24

    fetched = (await registry.client.get(f"/apps/{app_name}")).json()
    listed = (await registry.client.get("/apps")).json()
    assert password not in str(fetched) and password not in str(listed)
    assert "credentials" not in fetched

    in_db = await stored_hash(registry, app_name)
    assert password not in in_db and in_db.startswith("scrypt$")
    assert verify_password(password, in_db)
    record = await kv_get(f"apps/{app_name}")
    assert record["password_hash"] == in_db


async def test_list_counts_every_app(client: httpx.AsyncClient, new_extension: Callable[[], str]) -> None:
    names = {f"list-{new_extension()}" for _ in range(3)}
    for name in names:
        await create(client, name, new_extension())
    listed = (await client.get("/apps")).json()
    assert listed["count"] == len(listed["data"])
    assert names <= {a["name"] for a in listed["data"]}


async def test_duplicate_name_is_409_naming_the_owner(client: httpx.AsyncClient, app_name: str) -> None:
    await create(client, app_name)
    body = assert_error(await client.post("/apps", json={"name": app_name}), 409, "app-name-taken")
    assert body["details"]["owner"] == app_name
    assert app_name in body["message"]


async def test_extension_of_another_app_is_409_naming_the_owner(
    client: httpx.AsyncClient, app_name: str, extension: str, new_extension: Callable[[], str]
) -> None:
    await create(client, app_name, extension)
    other = f"{app_name}-b"
    response = await client.post("/apps", json={"name": other, "extensions": [new_extension(), extension]})
    body = assert_error(response, 409, "extension-taken")
    assert body["details"]["owner"] == app_name
    assert body["details"]["extensions"] == {extension: app_name}
    assert app_name in body["message"] and extension in body["message"]
    # nothing was half-created
    assert_error(await client.get(f"/apps/{other}"), 404, "app-not-found")

    await create(client, other, new_extension())
    body = assert_error(
        await client.patch(f"/apps/{other}", json={"extensions": [extension]}), 409, "extension-taken"
    )
    assert body["details"]["owner"] == app_name


async def test_reserved_link_app_name_is_409(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/apps", json={"name": "ariscale-link"}), 409, "app-name-reserved")
    assert_error(await client.post("/apps", json={"name": "ariscale-link-x"}), 409, "app-name-reserved")


@pytest.mark.parametrize("name", ["CONF", "Conf", "ARISCALE-LINK", "-", "_", "-conf", "conf.x"])
async def test_look_alike_names_are_422(client: httpx.AsyncClient, name: str) -> None:
    error = assert_error(await client.post("/apps", json={"name": name}), 422, "invalid-request")
    assert any("name" in e["field"] for e in error["details"]["errors"]), error


async def test_update_changes_only_the_fields_given(
    client: httpx.AsyncClient, app_name: str, new_extension: Callable[[], str], kv_get: KvGet
) -> None:
    first, second, third = new_extension(), new_extension(), new_extension()
    created = await create(client, app_name, first, second, description="before")

    response = await client.patch(f"/apps/{app_name}", json={"extensions": [third, first]})
    assert response.status_code == 200, response.text
    assert response.json()["extensions"] == [third, first]
    assert response.json()["description"] == "before"

    response = await client.patch(f"/apps/{app_name}", json={"enabled": False, "description": "after"})
    updated = response.json()
    assert (updated["enabled"], updated["description"], updated["extensions"]) == (
        False,
        "after",
        [third, first],
    )
    assert updated["updated_at"] >= created["updated_at"]
    assert (await kv_get(f"apps/{app_name}"))["enabled"] is False
    assert (await kv_get(f"apps/{app_name}"))["extensions"] == [third, first]

    # the number it gave up is free for another app
    await create(client, f"{app_name}-b", second)


async def test_rotate_password_invalidates_the_old_one(
    registry: Registry, app_name: str, kv_get: KvGet
) -> None:
    old = (await create(registry.client, app_name))["credentials"]["password"]
    response = await registry.client.post(f"/apps/{app_name}/password")
    assert response.status_code == 200, response.text
    new = response.json()
    assert new["username"] == app_name and new["password"] != old

    in_db = await stored_hash(registry, app_name)
    assert verify_password(new["password"], in_db) and not verify_password(old, in_db)
    assert (await kv_get(f"apps/{app_name}"))["password_hash"] == in_db


async def test_delete_removes_the_app_everywhere(
    client: httpx.AsyncClient, app_name: str, extension: str, kv_get: KvGet
) -> None:
    await create(client, app_name, extension)
    response = await client.delete(f"/apps/{app_name}")
    assert response.status_code == 204 and response.content == b""
    assert_error(await client.get(f"/apps/{app_name}"), 404, "app-not-found")
    assert await kv_get(f"apps/{app_name}") is None
    await create(client, f"{app_name}-b", extension)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/apps/{}"),
        ("PATCH", "/apps/{}"),
        ("DELETE", "/apps/{}"),
        ("POST", "/apps/{}/password"),
    ],
)
async def test_unknown_app_is_404(client: httpx.AsyncClient, app_name: str, method: str, path: str) -> None:
    response = await client.request(method, path.format(app_name), json={} if method == "PATCH" else None)
    body = assert_error(response, 404, "app-not-found")
    assert body["details"]["name"] == app_name


BAD_BODIES = [
    pytest.param({}, "name", id="missing-name"),
    pytest.param({"name": ""}, "name", id="empty-name"),
    pytest.param({"name": "a b"}, "name", id="space-in-name"),
    pytest.param({"name": "a.b"}, "name", id="dot-in-name"),
    pytest.param({"name": "é"}, "name", id="non-ascii-name"),
    pytest.param({"name": "x" * 65}, "name", id="name-too-long"),
    pytest.param({"name": 42}, "name", id="name-not-a-string"),
    pytest.param({"name": "ok", "extensions": "8000"}, "extensions", id="extensions-not-a-list"),
    pytest.param({"name": "ok", "extensions": ["80a0"]}, "extensions", id="letter-in-extension"),
    pytest.param({"name": "ok", "extensions": [""]}, "extensions", id="empty-extension"),
    pytest.param({"name": "ok", "extensions": ["1" * 33]}, "extensions", id="extension-too-long"),
    pytest.param({"name": "ok", "extensions": ["8000 "]}, "extensions", id="space-in-extension"),
    pytest.param({"name": "ok", "extensions": ["8000", "8000"]}, "extensions", id="repeated-extension"),
    pytest.param({"name": "ok", "extensions": [8000]}, "extensions", id="extension-not-a-string"),
    pytest.param({"name": "ok", "colour": "red"}, "colour", id="unknown-field"),
    pytest.param(["ok"], "body", id="body-not-an-object"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_malformed_create_is_422_naming_the_field(
    client: httpx.AsyncClient, body: Any, field: str
) -> None:
    error = assert_error(await client.post("/apps", json=body), 422, "invalid-request")
    assert any(field in e["field"] for e in error["details"]["errors"]), error
    assert (await client.get("/apps/ok")).status_code == 404


async def test_dialable_extensions_are_accepted(
    client: httpx.AsyncClient, app_name: str, new_extension: Callable[[], str]
) -> None:
    dialable = [f"*{new_extension()}#", f"+{new_extension()}"]
    assert (await create(client, app_name, *dialable))["extensions"] == dialable


async def test_invalid_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/apps", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(response, 422, "invalid-request")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"enabled": None}, id="null-enabled"),
        pytest.param({"extensions": None}, id="null-extensions"),
        pytest.param({"enabled": "maybe"}, id="enabled-not-a-bool"),
        pytest.param({"extensions": ["x"]}, id="bad-extension"),
        pytest.param({"name": "renamed"}, id="name-is-not-patchable"),
    ],
)
async def test_malformed_update_is_422(client: httpx.AsyncClient, app_name: str, body: Any) -> None:
    await create(client, app_name)
    assert_error(await client.patch(f"/apps/{app_name}", json=body), 422, "invalid-request")


async def test_invalid_name_in_path_is_422(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/apps/bad.name"), 422, "invalid-request")
