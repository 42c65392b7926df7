"""HTTP/1.1 to one server over kept-alive connections: the ARI client's transport.

The gateway sends a node one request for nearly every request an app makes, and a general client
(aiohttp) spent more CPU per request than the rest of the gateway's forwarding: URL objects,
header multidicts, tracing hooks, timeouts per phase. Here a request is one ``write`` of bytes
built in one go, and the answer is read by httptools (llhttp, C) straight from the socket.

Errors: :class:`Refused` (nothing listens), :class:`ConnectTimeout`, :class:`ReadTimeout` (no
complete answer in time: the connection is dropped), :class:`Broken` (closed or garbled midway).
"""

import asyncio
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import httptools


class HttpFailure(Exception):
    """The request got no complete answer."""


class Refused(HttpFailure):
    """Connection refused: nothing listens at the address."""


class ConnectTimeout(HttpFailure):
    """No connection within the timeout."""


class ReadTimeout(HttpFailure):
    """Connected, sent, but no complete answer within the timeout."""


class Broken(HttpFailure):
    """The connection failed or closed before the answer was complete, or the answer was not HTTP."""


@dataclass(frozen=True)
class Answer:
    status: int
    content: bytes
    content_type: str


class _Connection(asyncio.Protocol):
    """One connection; one request at a time (no pipelining)."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[Answer] | None = None
        self._body: list[bytes] = []
        self._content_type = ""
        self._header_name = b""
        self._keep_alive = True
        self.idle_since = time.monotonic()
        self.lost = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(Broken(f"not an HTTP answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._fail(Broken(f"connection closed before the answer was complete ({exc or 'by the server'})"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"content-type":
            self._content_type = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._keep_alive = self._parser.should_keep_alive()
        answer = Answer(self._parser.get_status_code(), b"".join(self._body), self._content_type)
        self._body = []
        self._content_type = ""
        future, self._answer = self._answer, None
        if future is not None and not future.done():
            future.set_result(answer)

    # the pool's side
    @property
    def reusable(self) -> bool:
        return not self.lost and self._keep_alive and self._answer is None and self._transport is not None

    def send(self, request: bytes) -> "asyncio.Future[Answer]":
        assert self._transport is not None and self._answer is None
        self._answer = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return self._answer

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _fail(self, error: HttpFailure) -> None:
        self._keep_alive = False
        future, self._answer = self._answer, None
        if future is not None and not future.done():
            future.set_exception(error)
        self.close()


class HttpConnections:
    """Requests to the server of ``base_url`` (http or https), at most ``limit`` at once; idle
    connections are reused for ``keepalive_s`` (keep it below the server's own keep-alive)."""

    def __init__(
        self, base_url: str, limit: int, keepalive_s: float, connect_timeout: float, read_timeout: float
    ) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self.host_header = parts.netloc.rsplit("@", 1)[-1]
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(limit)
        self._keepalive_s = keepalive_s
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout

    async def request(self, request: bytes) -> Answer:
        """Send one whole request (head and body) and return the answer."""
        async with self._slots:
            connection = self._idle_connection() or await self._connect()
            answer = connection.send(request)
            timer = asyncio.get_running_loop().call_later(self._read_timeout, _expire, answer)
            try:
                result = await answer
            finally:
                timer.cancel()
                self._put_back(connection)
            return result

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def _idle_connection(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recently used: the least likely to be stale
            if connection.reusable and now - connection.idle_since < self._keepalive_s:
                return connection
            connection.close()
        return None

    def _put_back(self, connection: _Connection) -> None:
        if connection.reusable:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    _Connection, self._host, self._port, ssl=self._ssl
                )
        except ConnectionRefusedError as exc:
            raise Refused(f"connection refused by {self._host}:{self._port}") from exc
        except TimeoutError as exc:
            raise ConnectTimeout(f"no connection to {self._host}:{self._port} within the timeout") from exc
        except OSError as exc:
            raise Broken(f"cannot connect to {self._host}:{self._port}: {exc}") from exc
        return connection


def _expire(answer: "asyncio.Future[Any]") -> None:
    if not answer.done():
        answer.set_exception(ReadTimeout("no answer within the timeout"))
