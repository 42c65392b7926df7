"""Kombu's py-amqp transport, reading the socket ahead instead of byte count by byte count.

py-amqp reads each frame in three ``recv`` calls of exactly the size it wants next (the 7-byte
header, the payload, the 1-byte frame end), each after a ``poll`` when the socket has a timeout:
about 18 system calls per delivered message (method, header and body frames), and as many for
every publisher confirm. Here a short read asks for up to :data:`READ_AHEAD` bytes and keeps what
follows for the next frames, so one call usually brings in everything the broker has sent.
Frames are parsed by py-amqp as before; only ``_read`` differs. Use it as
``kombu.Connection(url, transport=ReadAheadTransport)``.
"""

import errno
from typing import Any

from amqp.transport import TCPTransport
from kombu.transport import pyamqp

READ_AHEAD = 65536


class ReadAheadTCPTransport(TCPTransport):  # type: ignore[misc]  # py-amqp is untyped
    _read_buffer: bytes | bytearray

    def _read(
        self, n: int, initial: bool = False, _errnos: tuple[int, ...] = (errno.EAGAIN, errno.EINTR)
    ) -> bytes:
        """Exactly ``n`` bytes: from what was read ahead, then from the socket."""
        buffer = self._read_buffer
        if not isinstance(buffer, bytearray):  # py-amqp puts back a cut frame as bytes
            buffer = bytearray(buffer)
            self._read_buffer = buffer
        while len(buffer) < n:
            try:
                chunk = self._quick_recv(max(n - len(buffer), READ_AHEAD))
            except OSError as exc:
                if exc.errno in _errnos:
                    if initial and self.raise_on_initial_eintr:
                        raise TimeoutError() from exc
                    continue
                raise
            if not chunk:
                raise OSError("Server unexpectedly closed connection")
            buffer += chunk
        wanted = bytes(buffer[:n])
        del buffer[:n]  # O(1) at a bytearray's front
        return wanted


class _Connection(pyamqp.Connection):
    def Transport(
        self, host: str, connect_timeout: float | None, ssl: Any = False, read_timeout: float | None = None,
        write_timeout: float | None = None, socket_settings: Any = None, **kwargs: Any,
    ) -> Any:  # fmt: skip
        timeouts = {"read_timeout": read_timeout, "write_timeout": write_timeout}
        if ssl:  # TLS: py-amqp's own transport
            return super().Transport(host, connect_timeout, ssl, socket_settings=socket_settings, **timeouts)
        return ReadAheadTCPTransport(
            host, connect_timeout=connect_timeout, socket_settings=socket_settings, **timeouts, **kwargs
        )


class ReadAheadTransport(pyamqp.Transport):
    """Kombu's ``amqp`` transport with :class:`ReadAheadTCPTransport` sockets."""

    Connection = _Connection
