"""The conference app's settings, read once from the environment (``ARISCALE_*``)."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from ariscale_common import LogSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARISCALE_", env_nested_delimiter="__")

    gateway_url: str = "http://127.0.0.1:20001"
    registry_url: str = "http://127.0.0.1:20000"
    admin_token: str = "ariscale-admin"
    credentials_dir: Path = Path(".cluster/credentials")
    app_name: str = "conf"
    extension: str = "8000"
    conference: str = "conf"  # the bridge every caller of the extension joins
    log: LogSettings = LogSettings()
