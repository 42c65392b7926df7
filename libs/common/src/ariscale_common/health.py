"""Connection state as data: every long-lived link reports here, ``/health`` reads it."""

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from pydantic import BaseModel

log = logging.getLogger(__name__)

# How a component that lives in another thread (Kombu) reports its link: (state, detail).
LinkReporter = Callable[["LinkState", str], None]


class LinkState(enum.StrEnum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"


class LinkStatus(BaseModel):
    state: LinkState
    since: float
    detail: str = ""


class HealthReport(BaseModel):
    service: str
    status: str  # "ok" when every link is up, else "degraded"
    links: dict[str, LinkStatus]
    # The Asterisk nodes the service sees (node id → "up", "down" or "drained"), where it has a
    # view of them; a node down degrades the cluster, not this service, so status ignores them.
    nodes: dict[str, str] = {}


class Health:
    """Registry of named links (``ari:n1``, ``amqp``, ``redis`` …) and their current state."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._links: dict[str, LinkStatus] = {}
        self.nodes: dict[str, str] = {}

    def set(self, link: str, state: LinkState, detail: str = "") -> None:
        """Record a transition; log it only when the state actually changes."""
        previous = self._links.get(link)
        if previous is None or previous.state != state:
            level = logging.WARNING if state is LinkState.DOWN else logging.INFO
            log.log(level, "link %s: %s%s", link, state.value, f" ({detail})" if detail else "")
            self._links[link] = LinkStatus(state=state, since=time.time(), detail=detail)
        else:
            previous.detail = detail

    def forget(self, link: str) -> None:
        self._links.pop(link, None)

    def state(self, link: str) -> LinkState | None:
        status = self._links.get(link)
        return status.state if status else None

    def report(self) -> HealthReport:
        healthy = all(s.state is LinkState.UP for s in self._links.values())
        return HealthReport(
            service=self.service,
            status="ok" if healthy else "degraded",
            links=dict(self._links),
            nodes=dict(self.nodes),
        )


async def probe_forever(
    health: Health, link: str, probe: Callable[[], Awaitable[object]], interval: float = 2.0
) -> None:
    """Keep ``link``'s state current for a client that reconnects by itself (e.g. redis-py)."""
    while True:
        try:
            async with asyncio.timeout(interval):
                await probe()
        except Exception as exc:  # whatever the client raises, the link is down for now
            health.set(link, LinkState.DOWN, f"{type(exc).__name__}: {exc}")
        else:
            health.set(link, LinkState.UP)
        await asyncio.sleep(interval)


def threadsafe_reporter(health: Health, link: str, loop: asyncio.AbstractEventLoop) -> LinkReporter:
    """A reporter other threads may call: the state change runs on ``loop``, where health is read."""

    def report(state: LinkState, detail: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody reads health any more
            loop.call_soon_threadsafe(health.set, link, state, detail)

    return report


def health_router() -> APIRouter:
    """``GET /health``: the service and the state of each of its links (from ``app.state.health``)."""
    router = APIRouter(tags=["health"])

    @router.get("/health")
    async def health(request: Request) -> HealthReport:
        checker: Health = request.app.state.health
        return checker.report()

    return router
