"""HTTP routes of the registry service."""

from fastapi import APIRouter

from ariscale_common.health import health_router
from registry.api import apps, nodes

router = APIRouter()
router.include_router(health_router())
router.include_router(apps.router)
router.include_router(nodes.router)
