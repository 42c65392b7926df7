"""The node agent's settings, read once from the environment (``ARISCALE_*``)."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from ariscale_common import AmqpSettings, AriSettings, ConsulSettings, LogSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARISCALE_", env_nested_delimiter="__")

    node_id: str = "n1"
    sip_address: str = "127.0.0.1:20011"
    ari: AriSettings = AriSettings()
    amqp: AmqpSettings = AmqpSettings()
    consul: ConsulSettings = ConsulSettings()
    log: LogSettings = LogSettings()
