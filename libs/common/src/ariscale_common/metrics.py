"""Prometheus metrics: ``GET /metrics`` in the text format, from the process-wide registry.

Counters and histograms are updated where things happen. Gauges that mirror state held elsewhere
(Consul, Asterisk, Redis) are refreshed at scrape time by the service's *refreshers*: async
callables run just before the registry is rendered, each bounded by a timeout so a slow backend
never stalls a scrape.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

Refresher = Callable[[], Awaitable[None]]
REFRESH_TIMEOUT_S = 2.0
PREFIX = "ariscale_"

log = logging.getLogger(__name__)
router = APIRouter(tags=["metrics"])


def add_refresher(app: FastAPI, refresher: Refresher) -> None:
    """Run ``refresher`` before every scrape of ``app``'s ``/metrics``."""
    refreshers: list[Refresher] = getattr(app.state, "metrics_refreshers", [])
    refreshers.append(refresher)
    app.state.metrics_refreshers = refreshers


async def _refresh(refresher: Refresher) -> None:
    try:
        await asyncio.wait_for(refresher(), REFRESH_TIMEOUT_S)
    except Exception as exc:  # a scrape still answers, with the last known values
        log.warning("metrics refresh %s failed: %s", getattr(refresher, "__qualname__", refresher), exc)


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Every ``ariscale_`` metric of this process, in Prometheus' text format."""
    refreshers: list[Refresher] = getattr(request.app.state, "metrics_refreshers", [])
    await asyncio.gather(*(_refresh(r) for r in refreshers))
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
