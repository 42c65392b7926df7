"""A route's named dependency hands out what the lifespan put on ``app.state``."""

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI

from ariscale_common.deps import from_state


class Greeter:
    def greet(self) -> str:
        return "hello"


async def test_a_route_gets_the_object_on_app_state() -> None:
    app = FastAPI()

    @app.get("/greet")
    async def greet(greeter: Annotated[Greeter, Depends(from_state("greeter"))]) -> str:
        return greeter.greet()

    app.state.greeter = Greeter()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        answer = await client.get("/greet")
    assert (answer.status_code, answer.json()) == (200, "hello")


def test_each_dependency_is_named_after_what_it_hands_out() -> None:
    assert from_state("greeter").__name__ == "state_greeter"
