"""uvicorn's websocket protocol, except that closing on a client that stopped reading drops it, and
that the frames written in one turn of the event loop go out in one send.

The gateway closes an events websocket whose client lets its events pile up (see
``events/instances.py``). uvicorn's close first waits until the transport is writable again — for
a client that reads nothing, for ever — and a graceful close would then wait behind the full
buffer too: the connection, its kernel buffers and its task would stay as long as the client does.
Here such a close resets the connection at once (a plain close would still queue its FIN behind
the unsent data, and the kernel would keep the connection for the client's sake).

The events of one bus message often go to one websocket back to back (a hangup's three): each
frame was a socket send of its own, the largest single cost of delivering an event (py-spy).
:class:`CoalescingTransport` joins what is written in one turn of the loop.

Run the gateway with ``uvicorn --ws gateway.websocket_protocol:DroppingWebSocketProtocol``.
"""

import asyncio
import socket
import struct
from typing import Any, cast

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class CoalescingTransport(asyncio.Transport):
    """A transport whose writes in one turn of the event loop reach the socket as one write, at
    the end of that turn; everything else is the wrapped transport's."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def _flush(self) -> None:
        if self._pending:
            data, self._pending = b"".join(self._pending), []
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()  # a close frame written just before goes out before the FIN
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(p) for p in self._pending)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()


class DroppingWebSocketProtocol(WebSocketsSansIOProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # cast: uvloop's transports have asyncio.Transport's methods without deriving from it
        super().connection_made(CoalescingTransport(cast(asyncio.Transport, transport)))

    async def send(self, message: ASGISendEvent) -> None:
        if message["type"] == "websocket.close" and self.handshake_complete and not self.writable.is_set():
            # The client's buffer is full: it would never take the close frame either.
            self._reset()
            return
        await super().send(message)

    def _reset(self) -> None:
        """Drop the connection with a TCP reset, discarding what the client never took."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()
