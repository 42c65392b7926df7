"""The gateway's settings, read once from the environment (``ARISCALE_*``)."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from ariscale_common import AmqpSettings, AriSettings, ConsulSettings, LogSettings, RedisSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARISCALE_", env_nested_delimiter="__")

    redis: RedisSettings = RedisSettings()
    amqp: AmqpSettings = AmqpSettings()
    consul: ConsulSettings = ConsulSettings()
    ari: AriSettings = AriSettings()
    log: LogSettings = LogSettings()
    registry_url: str = "http://127.0.0.1:20000"
