"""The ARI client's own HTTP/1.1 transport against a real HTTP server (uvicorn) that echoes what it
got: requests arrive as sent, answers come back whole, connections are reused and replaced, and
each failure maps to the error the gateway acts on (unreachable, slow, broken).

Real Asterisk is behind every e2e test; this server can also be slow, close idle connections and
answer garbage on purpose.
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from ariscale_common.ari import AriClient, AriError, AriTimeout, AriUnreachable
from tests.support.uvicorn_thread import serving

KEEP_ALIVE_S = 1.0  # the server's: it closes a connection idle this long


def echoing_node() -> FastAPI:
    node = FastAPI()

    @node.api_route("/ari/echo/{item}", methods=["GET", "POST", "DELETE", "PUT"])
    async def echo(item: str, request: Request) -> dict[str, Any]:
        client = request.client
        return {
            "method": request.method,
            "item": item,
            "query": list(request.query_params.multi_items()),
            "authorization": request.headers.get("authorization"),
            "content_type": request.headers.get("content-type"),
            "request_id": request.headers.get("x-request-id"),
            "body": (await request.body()).decode(),
            "client_port": client.port if client else None,
        }

    @node.delete("/ari/empty")
    async def empty() -> Response:
        return Response(status_code=204)

    @node.get("/ari/missing")
    async def missing() -> Response:
        return Response('{"message": "Channel not found"}', status_code=404, media_type="application/json")

    @node.get("/ari/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(2)
        return {"late": "yes"}

    @node.get("/ari/chunked")
    async def chunked() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f'{{"part": {i}}}'.encode() if i == 0 else b""
                await asyncio.sleep(0)

        return StreamingResponse(parts(), media_type="application/json")

    @node.get("/ari/large")
    async def large() -> Response:
        return Response(b'"' + b"x" * 1_000_000 + b'"', media_type="application/json")

    return node


@pytest.fixture(scope="module")
def node_port() -> Iterator[int]:
    with serving(echoing_node(), timeout_keep_alive=KEEP_ALIVE_S) as port:
        yield port


@pytest.fixture
async def client(node_port: int) -> AsyncIterator[AriClient]:
    ari = AriClient(f"http://127.0.0.1:{node_port}/ari", "asterisk", "s3cret:pw", timeout=0.5)
    yield ari
    await ari.aclose()


async def test_a_request_arrives_as_sent(client: AriClient) -> None:
    got = await client.post("/echo/one", params={"variable": "X", "value": "a b&c=d+é"}, json={"k": [1]})
    assert got["method"] == "POST" and got["item"] == "one"
    assert got["query"] == [["variable", "X"], ["value", "a b&c=d+é"]]
    assert got["authorization"] == "Basic YXN0ZXJpc2s6czNjcmV0OnB3"  # asterisk:s3cret:pw
    assert got["content_type"] == "application/json" and got["body"] == '{"k": [1]}'
    assert got["request_id"] is None  # none being served (test_request_ids: one is passed on)


@pytest.mark.parametrize("item", ["n1-1700000000.1", "a b", "x+y", "100%", "café", "a;b=c", "q?r#s"])
async def test_path_parameters_reach_the_server_unchanged(client: AriClient, item: str) -> None:
    got = await client.get(f"/echo/{item}")  # callers give paths decoded, as the gateway gets them
    assert got["item"] == item


async def test_answers_come_back_whole_whatever_their_framing(client: AriClient) -> None:
    assert await client.delete("/empty") is None
    empty = await client.send("DELETE", "/empty", [], None, "application/json")
    assert (empty.status, empty.content) == (204, b"")
    assert await client.get("/chunked") == {"part": 0}
    assert len(await client.get("/large")) == 1_000_000
    missing = await client.send("GET", "/missing", [], None, "application/json")
    assert (missing.status, missing.content_type) == (404, "application/json")
    with pytest.raises(AriError) as raised:
        await client.get("/missing")
    assert raised.value.status == 404 and raised.value.message == "Channel not found"


async def test_a_connection_is_reused_and_one_the_server_closed_is_replaced(client: AriClient) -> None:
    first = await client.get("/echo/a")
    second = await client.get("/echo/b")
    assert first["client_port"] == second["client_port"]
    await asyncio.sleep(KEEP_ALIVE_S * 2)  # the server has closed it meanwhile
    third = await client.get("/echo/c")
    assert third["item"] == "c" and third["client_port"] != first["client_port"]


async def test_concurrent_requests_each_get_their_own_answer(client: AriClient) -> None:
    answers = await asyncio.gather(*(client.get(f"/echo/i{i}") for i in range(40)))
    assert [a["item"] for a in answers] == [f"i{i}" for i in range(40)]


async def test_a_slow_node_is_a_timeout_and_the_next_request_goes_through(client: AriClient) -> None:
    with pytest.raises(AriTimeout):
        await client.get("/slow")
    assert (await client.get("/echo/after"))["item"] == "after"


async def test_nothing_listening_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ari = AriClient(f"http://127.0.0.1:{port}/ari", "u", "p", timeout=0.5)
    try:
        with pytest.raises(AriUnreachable):
            await ari.get("/asterisk/info")
    finally:
        await ari.aclose()


@contextlib.asynccontextmanager
async def raw_server(answer: bytes) -> AsyncIterator[int]:
    """A TCP server that reads a request and writes ``answer``, then closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


@pytest.mark.parametrize(
    "answer",
    [b"nonsense\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", b""],
    ids=["not-http", "cut-short", "closed-at-once"],
)
async def test_a_broken_answer_is_an_error_not_a_hang(answer: bytes) -> None:
    async with raw_server(answer) as port:
        ari = AriClient(f"http://127.0.0.1:{port}/ari", "u", "p", timeout=5)
        try:
            with pytest.raises(AriError) as raised:
                await ari.get("/x")
            assert type(raised.value) is AriError and raised.value.status is None
        finally:
            await ari.aclose()
