"""The node agent's settings, read once from the environment (``ARISCALE_*``)."""

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ariscale_common import AmqpSettings, AriSettings, ConsulSettings, LogSettings


class TimingSettings(BaseModel):
    """How fast the agent notices and heals; the defaults meet the cluster's promises."""

    # The node turns critical in Consul when no pass arrives within this TTL (agent dead).
    check_ttl_s: float = Field(5.0, gt=0)
    # How often ARI /asterisk/info is probed and the TTL check passed (or failed).
    heartbeat_s: float = Field(1.0, gt=0)
    # ARI websocket reconnect backoff: starts at the minimum, doubles, stops at the cap (apps
    # are deactivated on the node while their websocket is away, so come back fast).
    reconnect_min_s: float = Field(0.1, gt=0)
    reconnect_max_s: float = Field(2.0, gt=0)
    # Longest Consul blocking query on the app list (a change returns at once).
    kv_wait_s: int = Field(30, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARISCALE_", env_nested_delimiter="__")

    node_id: str = "n1"
    sip_address: str = "127.0.0.1:20011"
    # Events kept in memory while RabbitMQ is unreachable; the oldest go first when it is full.
    event_buffer_size: int = Field(10_000, gt=0)
    ari: AriSettings = AriSettings()
    amqp: AmqpSettings = AmqpSettings()
    consul: ConsulSettings = ConsulSettings()
    log: LogSettings = LogSettings()
    timing: TimingSettings = TimingSettings()
