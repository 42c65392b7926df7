"""Consul KV follows the database: after each change, after a wipe, after a registry restart."""

import httpx

from registry.settings import Settings
from tests.integration.registry.conftest import KvGet, Registry, running_registry
from tests.support.waiting import until


async def test_app_record_matches_the_database(
    registry: Registry, app_name: str, extension: str, kv_get: KvGet
) -> None:
    await registry.client.post("/apps", json={"name": app_name, "extensions": [extension]})
    record = await kv_get(f"apps/{app_name}")
    assert record["name"] == app_name
    assert record["extensions"] == [extension]
    assert record["enabled"] is True
    assert record["password_hash"].startswith("scrypt$")


async def test_wiped_kv_heals_while_running(
    registry: Registry, app_name: str, consul_http: httpx.AsyncClient, kv_get: KvGet
) -> None:
    await registry.client.post("/apps", json={"name": app_name})
    prefix = registry.settings.consul.kv_prefix
    (await consul_http.delete(f"/kv/{prefix}", params={"recurse": "1"})).raise_for_status()
    assert await kv_get(f"apps/{app_name}") is None

    async def restored() -> bool:
        return await kv_get(f"apps/{app_name}") is not None

    await until(restored, timeout=30, message="the periodic re-sync to restore the wiped app")


async def test_kv_lost_by_a_consul_restart_heals_at_once(
    settings: Settings, app_name: str, consul_http: httpx.AsyncClient, kv_get: KvGet
) -> None:
    """Consul (dev mode) restarts empty: the registry hears of the change (its blocking query on
    the KV), finds its mark gone and re-syncs: neither its periodic re-sync nor its periodic look
    for the mark would come within the hour."""
    settings = settings.model_copy(update={"kv_resync_interval": 3600.0, "kv_check_interval": 3600.0})
    async with running_registry(settings) as running:
        await running.client.post("/apps", json={"name": app_name})
        prefix = settings.consul.kv_prefix
        assert await kv_get("apps/") is not None  # the mark
        (await consul_http.delete(f"/kv/{prefix}", params={"recurse": "1"})).raise_for_status()

        async def restored() -> bool:
            return await kv_get(f"apps/{app_name}") is not None and await kv_get("apps/") is not None

        await until(restored, timeout=30, message="the app and the mark back before the periodic re-sync")


async def test_restart_resyncs_kv_from_the_database(
    registry: Registry, app_name: str, extension: str, consul_http: httpx.AsyncClient, kv_get: KvGet
) -> None:
    settings = registry.settings.model_copy(update={"kv_resync_interval": 3600.0})
    async with running_registry(settings) as first:
        await first.client.post("/apps", json={"name": app_name, "extensions": [extension]})
        before = await kv_get(f"apps/{app_name}")

    prefix = settings.consul.kv_prefix
    (await consul_http.delete(f"/kv/{prefix}apps/", params={"recurse": "1"})).raise_for_status()
    stray = f"{prefix}apps/{app_name}-gone"
    (await consul_http.put(f"/kv/{stray}", content=b'{"name": "gone"}')).raise_for_status()

    async with running_registry(settings):

        async def resynced() -> bool:
            return (
                await kv_get(f"apps/{app_name}") == before and await kv_get(f"apps/{app_name}-gone") is None
            )

        await until(resynced, timeout=30, message="KV re-synced from the database at start-up")
