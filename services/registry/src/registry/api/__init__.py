"""HTTP routes of the registry service."""

from fastapi import APIRouter

from registry.api import apps, dashboard, health, nodes

router = APIRouter()
router.include_router(health.router)
router.include_router(apps.router)
router.include_router(nodes.router)
router.include_router(dashboard.router)
