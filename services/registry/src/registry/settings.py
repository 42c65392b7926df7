"""The registry's settings, read once from the environment (``ARISCALE_*``)."""

from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict

from ariscale_common import AriSettings, ConsulSettings, LogSettings


class SipEdgeSettings(BaseModel):
    """Where Kamailio reads its dispatch set, and its control socket for ``dispatcher.reload``."""

    dispatcher_list: str = ".cluster/kamailio/dispatcher.list"
    ctl_socket: str = ".cluster/kamailio/kamailio_ctl"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARISCALE_", env_nested_delimiter="__")

    database_url: str = "sqlite+aiosqlite:///registry.db"
    admin_token: str = "ariscale-admin"
    consul: ConsulSettings = ConsulSettings()
    ari: AriSettings = AriSettings()
    sip_edge: SipEdgeSettings = SipEdgeSettings()
    log: LogSettings = LogSettings()
