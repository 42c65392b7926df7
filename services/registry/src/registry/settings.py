"""The registry's settings, read once from the environment (``ARISCALE_*``)."""

from pydantic import BaseModel, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ariscale_common import AriSettings, ConsulSettings, LogSettings, RedisSettings


class SipEdgeSettings(BaseModel):
    """Where Kamailio reads its dispatch set, and its control socket for ``dispatcher.reload``."""

    dispatcher_list: str = ".cluster/kamailio/dispatcher.list"
    ctl_socket: str = ".cluster/kamailio/kamailio_ctl"
    kamcmd: str = "kamcmd"
    # The dispatch set is recomputed as soon as Consul reports a change (registry.consul_changes),
    # and at least this often besides.
    poll_interval: float = 30.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARISCALE_", env_nested_delimiter="__")

    database_url: str = "sqlite+aiosqlite:///registry.db"
    admin_token: str = "ariscale-admin"
    consul: ConsulSettings = ConsulSettings()
    ari: AriSettings = AriSettings()
    sip_edge: SipEdgeSettings = SipEdgeSettings()
    # Where the gateways list apps' connected instances (to show each app's consumers).
    redis: RedisSettings = RedisSettings()
    log: LogSettings = LogSettings()
    # Full KV re-sync from the database: at start, after Consul comes back, and this often.
    kv_resync_interval: float = 30.0
    # The mirror looks for its mark whenever the KV changes (a Consul restarted empty), and at
    # least this often besides.
    kv_check_interval: float = 10.0
    # Per-node ARI look-ups (app state, channel and bridge counts) give up after this long.
    node_ari_timeout: float = 2.0
    # The dashboard's charts come from this Prometheus (none: no charts); make up sets it.
    prometheus_url: str | None = None
    # How often the dashboard's stream sends a fresh snapshot.
    dashboard_interval: float = 1.0

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        """Accept plain ``postgresql://`` / ``sqlite://`` URLs and pick the async driver."""
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url
