"""``GET /health``: the agent, the state of each of its links and its event counters."""

from fastapi import APIRouter

from node_agent.api.deps import HealthDep, PublisherDep, SettingsDep
from node_agent.schemas import AgentHealth

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(checker: HealthDep, publisher: PublisherDep, settings: SettingsDep) -> AgentHealth:
    report = checker.report()
    return AgentHealth(**report.model_dump(), node_id=settings.node_id, events=publisher.stats())
