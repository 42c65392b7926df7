"""Where an app finds the gateway and its password: environment, then make up's files, then defaults."""

from pathlib import Path

import pytest

from app_sdk import Config


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run from an empty directory with none of the SDK's variables set."""
    for name in ("ARISCALE_GATEWAY_URL", "ARISCALE_APP_PASSWORD", "ARISCALE_CREDENTIALS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def write_cluster_env(text: str) -> None:
    Path(".cluster").mkdir(exist_ok=True)
    Path(".cluster/env").write_text(text)


def test_without_anything_the_local_gateway() -> None:
    assert Config().resolved_gateway_url() == "http://127.0.0.1:20001"


def test_the_cluster_env_file_names_the_gateway() -> None:
    write_cluster_env("REGISTRY_URL=http://127.0.0.1:11000\nGATEWAY_URL = http://127.0.0.1:11001/ \n")
    assert Config().resolved_gateway_url() == "http://127.0.0.1:11001"


def test_the_environment_beats_the_cluster_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    write_cluster_env("GATEWAY_URL=http://127.0.0.1:11001\n")
    monkeypatch.setenv("ARISCALE_GATEWAY_URL", "http://gw.example:8088/")
    assert Config().resolved_gateway_url() == "http://gw.example:8088"


def test_the_password_comes_from_the_environment_first(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".cluster/credentials").mkdir(parents=True)
    Path(".cluster/credentials/conf").write_text("from-file\n")
    monkeypatch.setenv("ARISCALE_APP_PASSWORD", "from-env")
    assert Config().password_for("conf") == "from-env"


def test_else_from_the_apps_credentials_file() -> None:
    Path(".cluster/credentials").mkdir(parents=True)
    Path(".cluster/credentials/conf").write_text("from-file\n")
    assert Config().password_for("conf") == "from-file"


def test_no_password_anywhere_names_both_places(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARISCALE_CREDENTIALS_DIR", str(tmp_path / "creds"))
    with pytest.raises(RuntimeError) as raised:
        Config().password_for("hello")
    assert "ARISCALE_APP_PASSWORD" in str(raised.value) and str(tmp_path / "creds" / "hello") in str(
        raised.value
    )
