"""One Redis connection carrying every plain command of the gateway, pipelined.

redis-py spends ~5x Redis's own time per command in Python (a pooled connection checked out and
back, a stream reader, a retry wrapper, per-command encoding); the gateway sends ~11 commands a
call and one per ARI request. :class:`MultiplexedRedis` is redis-py's client with only
``execute_command`` replaced: commands are packed by hiredis, written at once to one shared
connection, and their replies (parsed by hiredis, in order) resolve the waiting callers. Replies
still go through redis-py's response callbacks and errors through its error classes, so callers
see exactly what redis-py would give them. Pipelines, transactions and pub/sub keep redis-py's
own pooled connections.

Failures are redis-py's too: a connection that drops fails the commands waiting on it with
``ConnectionError``, and the client's ``Retry`` (``RedisSettings.client``) reconnects and sends
them again with backoff. A reply overdue by :data:`REPLY_DEADLINE_S` drops the connection (a
server gone silent), since later replies could no longer be matched to their commands.
"""

import asyncio
import time
from collections import deque
from typing import Any, cast

import hiredis
from redis._parsers import BaseParser  # redis-py's own reply-error → exception mapping
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.client import EMPTY_RESPONSE, NEVER_DECODE  # redis-py's per-command options
from redis.exceptions import ConnectionError, InvalidResponse, ResponseError, TimeoutError
from redis.utils import DEFAULT_RESP_VERSION

# No command the gateway sends takes long in Redis; a reply later than this means a dead link.
REPLY_DEADLINE_S = 5.0
_PUSH = getattr(hiredis, "PushNotification", None)  # hiredis >= 3.2


class _Link(asyncio.Protocol):
    """A connection to Redis: commands written in order, replies handed out in the same order."""

    def __init__(self) -> None:
        self._reader = hiredis.Reader(protocolError=InvalidResponse, replyError=BaseParser.parse_error)
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._transport: asyncio.Transport | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            if _PUSH is not None and isinstance(reply, _PUSH):
                continue  # RESP3 out-of-band data (none is asked for): never a command's reply
            if not self._waiting:
                self._drop(InvalidResponse("Redis sent a reply nobody asked for"))
                return
            future, _ = self._waiting.popleft()
            if future.done():  # its caller was cancelled: the reply still had to be read
                continue
            if isinstance(reply, Exception):  # an error reply, as redis-py's exception
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        error = ConnectionError(f"Redis connection lost: {exc or 'closed by the server'}")
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)

    def send(self, packed: bytes) -> "asyncio.Future[Any]":
        """The reply to one packed command, once it comes."""
        if self.lost or self._transport is None or self._transport.is_closing():
            raise ConnectionError("Redis connection lost")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((future, time.monotonic()))
        self._transport.write(packed)
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().call_later(REPLY_DEADLINE_S, self._check_overdue)
        return future

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _check_overdue(self) -> None:
        self._watchdog = None
        if not self._waiting:
            return
        oldest = time.monotonic() - self._waiting[0][1]
        if oldest >= REPLY_DEADLINE_S:
            self._drop(TimeoutError(f"Redis did not reply in {REPLY_DEADLINE_S:.0f} s"))
            return
        self._watchdog = asyncio.get_running_loop().call_later(REPLY_DEADLINE_S - oldest, self._check_overdue)

    def _drop(self, error: Exception) -> None:
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)
        self.close()


def _packed(words: tuple[Any, ...]) -> bytes:
    """The command as RESP, encoded by hiredis (as redis-py's encoder would: text as UTF-8)."""
    packed: bytes = hiredis.pack_command(cast(Any, words))
    return packed


def _words(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """redis-py names some commands in two words ("SCRIPT LOAD"): Redis wants them apart."""
    name = args[0]
    if isinstance(name, str) and " " in name:
        return (*name.split(), *args[1:])
    return args


class MultiplexedRedis(Redis):
    """redis-py's asyncio client whose plain commands share one pipelined connection."""

    _link: _Link | None = None
    _connecting: "asyncio.Task[_Link] | None" = None
    _plain: bool | None = None  # whether this client may multiplex: decided once

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if self._plain is None:
            self._plain = self._multiplexable()
        if not self._plain:
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        packed = _packed(_words(args))
        retry = self.get_retry()
        if retry is None:
            reply = await self._exchange(packed)
        else:
            reply = await retry.call_with_retry(lambda: self._exchange(packed), self._forget_link)
        return await self._parsed(args[0], reply, options)

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        await super().aclose(close_connection_pool)

    def _multiplexable(self) -> bool:
        """Plain TCP without decoding (the gateway's client): other set-ups keep redis-py's path."""
        kwargs = self.connection_pool.connection_kwargs
        return self.connection_pool.connection_class is Connection and not kwargs.get("decode_responses")

    async def _exchange(self, packed: bytes) -> Any:
        link = self._link
        if link is None or link.lost:
            link = await self._connected()
        try:
            return await link.send(packed)
        except ResponseError as error:
            return error  # redis-py's EMPTY_RESPONSE option may stand for it: see _parsed

    async def _forget_link(self, error: Exception) -> None:
        # Only a link that is gone: commands of an old link failing late must not close the new one.
        if self._link is not None and self._link.lost:
            self._link = None

    async def _connected(self) -> _Link:
        """The link, connected once however many commands wait for it."""
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.ensure_future(self._connect())
        link = await asyncio.shield(self._connecting)
        return link

    async def _connect(self) -> _Link:
        kwargs = self.connection_pool.connection_kwargs
        loop = asyncio.get_running_loop()
        timeout = kwargs.get("socket_connect_timeout") or REPLY_DEADLINE_S
        try:
            async with asyncio.timeout(timeout):
                _, link = await loop.create_connection(
                    _Link, kwargs.get("host", "localhost"), kwargs.get("port", 6379)
                )
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot connect to Redis: {exc}") from exc
        await self._introduce(link, kwargs)
        self._link = link
        return link

    @staticmethod
    async def _introduce(link: _Link, kwargs: dict[str, Any]) -> None:
        """HELLO (or AUTH) and SELECT, as redis-py does on each new connection: the same protocol
        version, so that its response callbacks get the reply shapes they expect."""
        protocol = int(kwargs.get("protocol") or DEFAULT_RESP_VERSION)
        password, username = kwargs.get("password"), kwargs.get("username")
        credentials = ("AUTH", username or "default", password) if password else ()
        if protocol == 3:
            await link.send(_packed(("HELLO", 3, *credentials)))
        elif credentials:
            await link.send(_packed(credentials))
        if db := int(kwargs.get("db") or 0):
            await link.send(_packed(("SELECT", db)))

    async def _parsed(self, command: str, reply: Any, options: dict[str, Any]) -> Any:
        """The reply as redis-py's ``parse_response`` would give it."""
        if isinstance(reply, ResponseError):
            if EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise reply
        options.pop(EMPTY_RESPONSE, None)
        options.pop(NEVER_DECODE, None)
        options.pop("keys", None)
        callback = self.response_callbacks.get(command)
        if callback is None:
            return reply
        value = callback(reply, **options)
        return await value if asyncio.iscoroutine(value) else value
