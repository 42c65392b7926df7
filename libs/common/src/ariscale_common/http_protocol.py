"""uvicorn's h11 protocol with a header timeout and a URL bound.

A client that does not finish sending a request's headers in time is disconnected (uvicorn alone
waits forever for the rest of them), and a websocket upgrade with a URL over
:data:`MAX_URL_BYTES` is refused with a 400 (the websocket parser behind it chokes on long
request lines and then holds the connection open).

Run services with ``uvicorn --http ariscale_common.http_protocol:HeaderTimeoutH11Protocol``.
"""

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_SECONDS = 10.0
MAX_URL_BYTES = 4096


class HeaderTimeoutH11Protocol(H11Protocol):
    header_timeout = HEADER_TIMEOUT_SECONDS
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a request's headers are complete
            self._cancel_header_timer()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        if len(event.target) > MAX_URL_BYTES:
            self.send_400_response(f"the URL is longer than {MAX_URL_BYTES} bytes")
            return
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()  # the next request on this connection gets the same bound

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
