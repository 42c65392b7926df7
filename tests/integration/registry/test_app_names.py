"""App names are unique ignoring case in the database itself, not only in the registry's check
(issue 11 row 17): a writer that slips past the check, in a race, still gets a 409 JSON."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from registry.db import alembic_config
from tests.integration.registry.conftest import Registry
from tests.integration.registry.test_apps_api import assert_error
from tests.support.waiting import until

INSERT_APP = text(
    "INSERT INTO apps (name, description, enabled, password_hash, created_at, updated_at) "
    "VALUES (:name, '', true, 'x', :now, :now)"
)


@pytest.fixture
async def database(registry: Registry) -> AsyncIterator[AsyncEngine]:
    """The registry's database, straight (the registry has run its migrations)."""
    engine = create_async_engine(registry.settings.database_url)
    yield engine
    await engine.dispose()


async def insert_app(connection: AsyncConnection, name: str) -> None:
    await connection.execute(INSERT_APP, {"name": name, "now": datetime.now(UTC)})


async def test_the_database_refuses_a_name_differing_only_in_case(
    database: AsyncEngine, app_name: str
) -> None:
    async with database.begin() as connection:
        await insert_app(connection, app_name.upper())
    with pytest.raises(IntegrityError):
        async with database.begin() as connection:
            await insert_app(connection, app_name)


async def test_concurrent_creations_of_one_name_give_one_201_and_one_409(
    client: httpx.AsyncClient, app_name: str
) -> None:
    answers = await asyncio.gather(*(client.post("/apps", json={"name": app_name}) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    taken = next(a for a in answers if a.status_code == 409)
    assert assert_error(taken, 409, "app-name-taken")["details"]["owner"] == app_name


# SQLite has one writer at a time: no insert can wait on another's index entry there.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_case_twin_committed_during_a_creation_gives_409_not_500(
    database: AsyncEngine, client: httpx.AsyncClient, app_name: str
) -> None:
    """Another writer (an older registry, an operator) inserts the name in capitals and commits
    while the registry's own insert waits on the index: the registry's check saw nothing."""
    twin = app_name.upper()
    async with database.connect() as other:
        await other.begin()
        await insert_app(other, twin)  # not committed: the registry's check cannot see it
        creation = asyncio.create_task(client.post("/apps", json={"name": app_name}))
        async with database.connect() as watcher:

            async def blocked() -> bool:  # the registry's insert waits for the twin's transaction
                waiting = await watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                await watcher.rollback()
                return creation.done() or int(waiting.scalar_one()) > 0

            await until(blocked, timeout=20, interval=0.05, message="the registry's insert waiting")
        await other.commit()
    answer = await creation
    body = assert_error(answer, 409, "app-name-taken")
    assert body["details"]["owner"] == twin, body
    assert_error(await client.get(f"/apps/{app_name}"), 404, "app-not-found")


async def test_the_migration_names_existing_case_twins_instead_of_choosing(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to, BEFORE_CASE_INDEX)
            for name in ("Conf", "conf", "other"):
                await insert_app(connection, name)
        with pytest.raises(RuntimeError, match="differ only in case: Conf, conf;"):
            async with engine.begin() as connection:
                await connection.run_sync(upgrade_to, "head")
    finally:
        await engine.dispose()


BEFORE_CASE_INDEX = "cca5eba2cb20"


def upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
