"""Where the app finds the gateway and its credentials: environment first, then ``make up``'s files.

=========================  ===========================================================
``ARISCALE_GATEWAY_URL``   the gateway (default: ``GATEWAY_URL`` from ``.cluster/env``,
                           else http://127.0.0.1:20001)
``ARISCALE_APP_PASSWORD``  the app's ARI password (default: the file
                           ``<credentials dir>/<app name>``)
``ARISCALE_CREDENTIALS_DIR``  where registered apps' passwords are kept (default
                           ``.cluster/credentials``, written by ``make up``'s conf_app)
=========================  ===========================================================
"""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

CLUSTER_ENV = Path(".cluster/env")


def _cluster_value(key: str, default: str) -> str:
    if CLUSTER_ENV.exists():
        for line in CLUSTER_ENV.read_text().splitlines():
            name, _, value = line.partition("=")
            if name.strip() == key:
                return value.strip()
    return default


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARISCALE_")

    gateway_url: str = ""
    app_password: str = ""
    credentials_dir: Path = Path(".cluster/credentials")
    # Reconnect backoff of the event stream: first delay and cap, in seconds.
    reconnect_min: float = 0.2
    reconnect_max: float = 5.0
    request_timeout: float = 10.0

    def resolved_gateway_url(self) -> str:
        return (self.gateway_url or _cluster_value("GATEWAY_URL", "http://127.0.0.1:20001")).rstrip("/")

    def password_for(self, app_name: str) -> str:
        if self.app_password:
            return self.app_password
        path = self.credentials_dir / app_name
        if path.exists():
            return path.read_text().strip()
        raise RuntimeError(
            f"no password for app {app_name!r}: set ARISCALE_APP_PASSWORD or register the app so"
            f" that {path} exists"
        )
