"""Settings sub-models shared by the services; each service nests them in its own ``Settings``."""

from pydantic import BaseModel


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "ariscale:"


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
