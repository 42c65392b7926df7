"""Shapes the agent's HTTP API answers with."""

from ariscale_common import HealthReport
from node_agent.publisher import EventStats


class AgentHealth(HealthReport):
    """``/health``: ``status`` is "ok" only when every link (``ari``, ``ari:<app>``, ``amqp``,
    ``consul``, ``consul:apps``) is up; ``events`` counts what went to the bus."""

    node_id: str
    events: EventStats
