"""Settings sub-models shared by the services; each service nests them in its own ``Settings``."""

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "ariscale:"

    def client(self, kind: type[Redis] = Redis) -> Redis:
        """An async client (``kind``: redis-py's or a subclass) that rides out a Redis restart: a
        command whose connection the server closed reconnects and retries (backoff up to 0.5 s,
        under 2 s in all) before failing."""
        retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=6)
        return kind.from_url(self.url, health_check_interval=10, retry=retry)


class AmqpSettings(BaseModel):
    url: str = "amqp://guest:guest@127.0.0.1:5672/ariscale"


class ConsulSettings(BaseModel):
    url: str = "http://127.0.0.1:20003"
    kv_prefix: str = "ariscale/"


class AriSettings(BaseModel):
    url: str = "http://127.0.0.1:20010/ari"
    user: str = "ariscale"
    password: str = "ariscale"


class LogSettings(BaseModel):
    level: str = "INFO"
