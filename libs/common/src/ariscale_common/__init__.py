"""Code shared by two or more ariscale services."""

from ariscale_common.health import Health, HealthReport, LinkState, LinkStatus
from ariscale_common.logs import configure_logging
from ariscale_common.settings import (
    AmqpSettings,
    AriSettings,
    ConsulSettings,
    LogSettings,
    RedisSettings,
)

__all__ = [
    "AmqpSettings",
    "AriSettings",
    "ConsulSettings",
    "Health",
    "HealthReport",
    "LinkState",
    "LinkStatus",
    "LogSettings",
    "RedisSettings",
    "configure_logging",
]
