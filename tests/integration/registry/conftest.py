"""A registry per test, driven in-process (httpx + ASGITransport, lifespan run for real).

The whole suite runs twice: against a SQLite file and against a PostgreSQL database. Each test
gets its own Consul KV prefix, admin token, dispatcher list file, app names and extensions.
"""

import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ariscale_common import ConsulSettings
from ariscale_common.discovery import NODE_SERVICE
from registry.main import create_app
from registry.settings import Settings, SipEdgeSettings


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('registry') / 'registry.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings(database_url: str, consul_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=secrets.token_urlsafe(16),
        consul=ConsulSettings(url=consul_url, kv_prefix=f"itest-{uuid.uuid4().hex[:8]}/"),
        sip_edge=SipEdgeSettings(
            dispatcher_list=str(tmp_path / "dispatcher.list"),
            ctl_socket=str(tmp_path / "no-kamailio.ctl"),
            poll_interval=0.2,
        ),
        kv_resync_interval=1.0,
        node_ari_timeout=1.0,
    )


@dataclass
class Registry:
    app: FastAPI
    client: httpx.AsyncClient  # already carries the admin token
    settings: Settings


@contextlib.asynccontextmanager
async def running_registry(settings: Settings) -> AsyncIterator[Registry]:
    """One registry process' worth: lifespan (migrations, background loops) and an HTTP client."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://registry",
            headers={"Authorization": f"Bearer {settings.admin_token}"},
        ) as client,
    ):
        yield Registry(app, client, settings)


@pytest.fixture
async def registry(settings: Settings) -> AsyncIterator[Registry]:
    async with running_registry(settings) as running:
        yield running


@pytest.fixture
def client(registry: Registry) -> httpx.AsyncClient:
    return registry.client


@pytest.fixture
async def consul_http(consul_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{consul_url}/v1", timeout=5) as http:
        yield http


@pytest.fixture
def app_name() -> str:
    return f"it-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def extension() -> str:
    return f"7{secrets.randbelow(10**7):07d}"


@pytest.fixture
def new_extension() -> Callable[[], str]:
    return lambda: f"7{secrets.randbelow(10**7):07d}"


class ConsulNodes:
    """Registers ``asterisk`` service instances directly in Consul, as node agents would."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.registered: list[str] = []

    async def register(
        self, node_id: str, sip_address: str, ari_url: str = "http://127.0.0.1:9/ari", passing: bool = True
    ) -> None:
        body: dict[str, Any] = {
            "ID": node_id,
            "Name": NODE_SERVICE,
            "Meta": {"ari_url": ari_url, "sip_address": sip_address, "asterisk_version": "22.10.1"},
            "Check": {"CheckID": f"ttl:{node_id}", "TTL": "60s"},
        }
        (await self.http.put("/agent/service/register", json=body)).raise_for_status()
        self.registered.append(node_id)
        await self.set_passing(node_id, passing)

    async def set_passing(self, node_id: str, passing: bool) -> None:
        verb = "pass" if passing else "fail"
        (await self.http.put(f"/agent/check/{verb}/ttl:{node_id}")).raise_for_status()

    async def deregister(self, node_id: str) -> None:
        (await self.http.put(f"/agent/service/deregister/{node_id}")).raise_for_status()


@pytest.fixture
async def consul_nodes(consul_http: httpx.AsyncClient) -> AsyncIterator[ConsulNodes]:
    nodes = ConsulNodes(consul_http)
    yield nodes
    for node_id in nodes.registered:
        await nodes.deregister(node_id)


@pytest.fixture
def node_id() -> str:
    return f"itn-{uuid.uuid4().hex[:6]}"


KvGet = Callable[[str], Awaitable[Any]]


@pytest.fixture
def kv_get(consul_http: httpx.AsyncClient, settings: Settings) -> KvGet:
    """The decoded JSON under ``<kv_prefix><key>``, or None when the key is absent."""

    async def get(key: str) -> Any:
        response = await consul_http.get(f"/kv/{settings.consul.kv_prefix}{key}", params={"raw": "1"})
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    return get
