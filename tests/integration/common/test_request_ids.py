"""A request id reaches the node: a service's calls to a node's ARI carry the id of the request
being served (the "node" here is a real HTTP server that echoes the header it received)."""

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request

from ariscale_common.ari import AriClient
from ariscale_common.service_app import create_service_app


def echoing_node() -> FastAPI:
    node = FastAPI()

    @node.get("/ari/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        return {"request_id": request.headers.get("x-request-id")}

    return node


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` on a real uvicorn server on a free loopback port, in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the echoing node did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/ari"
    finally:
        server.should_exit = True
        thread.join(10)


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
    with serving(echoing_node()) as node_url:
        service = service_calling(node_url)
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
