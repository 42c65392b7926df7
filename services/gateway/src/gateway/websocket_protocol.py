"""uvicorn's websocket protocol, except that closing on a client that stopped reading drops it.

The gateway closes an events websocket whose client lets its events pile up (see
``events/instances.py``). uvicorn's close first waits until the transport is writable again — for
a client that reads nothing, for ever — and a graceful close would then wait behind the full
buffer too: the connection, its kernel buffers and its task would stay as long as the client does.
Here such a close resets the connection at once (a plain close would still queue its FIN behind
the unsent data, and the kernel would keep the connection for the client's sake).

Run the gateway with ``uvicorn --ws gateway.websocket_protocol:DroppingWebSocketProtocol``.
"""

import socket
import struct

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class DroppingWebSocketProtocol(WebSocketsSansIOProtocol):
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
