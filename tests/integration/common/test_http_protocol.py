"""The services' HTTP protocol on a real uvicorn server: a request head that never ends, or grows
without end, costs the server a bounded time and memory, and a normal request goes through."""

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from ariscale_common.http_protocol import MAX_HEAD_BYTES, HeaderTimeoutHttpToolsProtocol
from tests.support.uvicorn_thread import serving


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(HeaderTimeoutHttpToolsProtocol, "header_timeout", 0.5)
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"ok": "yes"}

    with serving(app, http=HeaderTimeoutHttpToolsProtocol, log_level="error") as started:
        yield started


async def exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()


async def test_a_request_goes_through_and_the_connection_stays_for_the_next(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(2):
            writer.write(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
            assert head.startswith(b"HTTP/1.1 200"), head
            assert await reader.readexactly(len(b'{"ok":"yes"}')) == b'{"ok":"yes"}'
    finally:
        writer.close()


async def test_headers_never_finished_are_cut_off(port: int) -> None:
    assert await exchange(port, b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: ") == b""


async def test_a_head_without_end_is_refused(port: int) -> None:
    huge = b"".join(b"X-H%d: %s\r\n" % (i, b"y" * 1000) for i in range(MAX_HEAD_BYTES // 1000 + 2))
    answer = await exchange(port, b"GET /ping HTTP/1.1\r\nHost: x\r\n" + huge)  # never ends either
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


async def test_a_head_just_under_the_bound_is_served(port: int) -> None:
    header = b"X-Big: " + b"y" * (MAX_HEAD_BYTES // 2) + b"\r\n"
    answer = await exchange(
        port, b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + header + b"\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
