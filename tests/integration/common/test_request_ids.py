"""A request id reaches the node: a service's calls to a node's ARI carry the id of the request
being served (the "node" here is a real HTTP server that echoes the header it received)."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI, Request

from ariscale_common.ari import AriClient
from ariscale_common.service_app import create_service_app
from tests.support.uvicorn_thread import serving


def echoing_node() -> FastAPI:
    node = FastAPI()

    @node.get("/ari/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        return {"request_id": request.headers.get("x-request-id")}

    return node


def service_calling(node_url: str) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ari = AriClient(node_url, "u", "p")
        yield
        await app.state.ari.aclose()

    service = create_service_app("svc", "calls a node", lifespan)

    @service.get("/relay")
    async def relay(request: Request) -> Any:
        return await request.app.state.ari.get("/echo")

    return service


async def test_the_request_id_travels_to_the_node_and_back() -> None:
    with serving(echoing_node()) as node_port:
        service = service_calling(f"http://127.0.0.1:{node_port}/ari")
        async with (
            service.router.lifespan_context(service),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=service), base_url="http://svc") as client,
        ):
            given = await client.get("/relay", headers={"X-Request-Id": "op-7"})
            made = await client.get("/relay")

    assert given.json() == {"request_id": "op-7"} and given.headers["x-request-id"] == "op-7"
    assert (
        made.json()["request_id"] == made.headers["x-request-id"] and len(made.headers["x-request-id"]) == 32
    )
