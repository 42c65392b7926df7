"""Named dependencies of a service's routes, taken from ``app.state`` where the lifespan put them."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request


def from_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency returning ``app.state.<name>``: ``Annotated[Service, Depends(from_state("service"))]``."""

    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a thread hop per request.
    async def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    get.__name__ = f"state_{name}"
    return get
