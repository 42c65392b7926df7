"""Registry settings: database URLs get their async driver."""

import pytest

from registry.settings import Settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("sqlite:///registry.db", "sqlite+aiosqlite:///registry.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_url_gets_an_async_driver(given: str, used: str) -> None:
    assert Settings(database_url=given).database_url == used


def test_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARISCALE_DATABASE_URL", "postgresql://postgres@127.0.0.1/reg")
    assert Settings().database_url == "postgresql+asyncpg://postgres@127.0.0.1/reg"
