"""``/dashboard``: a live page of the cluster, and the admin-only snapshot stream that feeds it.

The page itself holds nothing secret; it asks for the admin token once (kept in the browser's
session storage) and sends it as a bearer token with every request. The stream is Server-Sent
Events: one ``snapshot`` event per interval, so the page updates itself without reloading.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from ariscale_common.errors import ApiError
from registry.deps import AdminDep, DashboardDep, SettingsDep
from registry.schemas import DashboardSnapshot

log = logging.getLogger(__name__)
router = APIRouter(prefix="/dashboard", tags=["dashboard"])

_PAGE = resources.files("registry") / "static" / "dashboard.html"


@router.get("", response_class=HTMLResponse, include_in_schema=False)
async def page() -> HTMLResponse:
    """The dashboard (plain HTML and a small script)."""
    return HTMLResponse(_PAGE.read_text(), headers={"Cache-Control": "no-store"})


@router.get("/snapshot", dependencies=[AdminDep])
async def snapshot(dashboard: DashboardDep) -> DashboardSnapshot:
    """Nodes, apps, conferences and chart series, now."""
    return await dashboard.snapshot()


@router.get("/stream", dependencies=[AdminDep], response_class=StreamingResponse)
async def stream(request: Request, dashboard: DashboardDep, settings: SettingsDep) -> StreamingResponse:
    """Server-Sent Events: a ``snapshot`` event every interval (a ``problem`` event when it failed)."""

    async def frames() -> AsyncIterator[str]:
        while not await request.is_disconnected():
            try:
                yield f"event: snapshot\ndata: {(await dashboard.snapshot()).model_dump_json()}\n\n"
            except ApiError as exc:  # Consul away, typically: say so, keep the stream open
                yield f"event: problem\ndata: {exc.message}\n\n"
            await asyncio.sleep(settings.dashboard_interval)

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
