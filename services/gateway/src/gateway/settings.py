"""The gateway's settings, read once from the environment (``ARISCALE_*``)."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from ariscale_common import AmqpSettings, AriSettings, ConsulSettings, LogSettings, RedisSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARISCALE_", env_nested_delimiter="__")

    redis: RedisSettings = RedisSettings()
    amqp: AmqpSettings = AmqpSettings()
    consul: ConsulSettings = ConsulSettings()
    ari: AriSettings = AriSettings()  # credentials the gateway uses on every node's ARI
    log: LogSettings = LogSettings()
    # A call whose app has no connected instance is hung up after this long, not left ringing.
    hangup_grace_seconds: float = 5.0
    # How often a gateway renews its websocket instances in Redis, and how long an instance
    # counts as live without a renewal (a crashed gateway's instances vanish after this).
    instance_heartbeat_seconds: float = 1.0
    instance_ttl_seconds: float = 3.0
    # A websocket that takes longer than this to accept one event is closed as stuck.
    event_send_timeout_seconds: float = 5.0
    # Events waiting for one websocket; a client that lets more pile up is disconnected as stuck
    # (each websocket has its own queue, so a stuck one never delays another app's events).
    event_queue_size: int = 1000
    # Events kept per app for clients that reconnect with ?after=<ariscale_seq> (about 1.5 kB each).
    event_replay_size: int = 10_000
    # How often one gateway checks the channels recorded in Redis against each node's own list
    # (entries whose end event never came would skew placement for ever).
    ownership_audit_seconds: float = 30.0
    # Timeout of one ARI request to a node.
    node_timeout_seconds: float = 10.0
    # The cluster's one identity, as one Asterisk's: GET /asterisk/info and /asterisk/ping answer
    # it, and every event carries it as ``asterisk_id`` (see events/identity.py).
    entity_id: str = "02:a5:c1:00:00:00"
    system_name: str = "ariscale"
    # This gateway's name in logs and instance ids (default: <hostname>:<pid>); a random run id is
    # appended, so processes given the same name still never share their forwarding queue.
    gateway_id: str = ""
