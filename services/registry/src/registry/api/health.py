"""``GET /health``: the service and the state of each of its connections."""

from fastapi import APIRouter, Request

from ariscale_common import Health, HealthReport

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(request: Request) -> HealthReport:
    checker: Health = request.app.state.health
    return checker.report()
