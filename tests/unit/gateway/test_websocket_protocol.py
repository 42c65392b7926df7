"""Frames written in one turn of the event loop leave in one socket write."""

import asyncio
from typing import Any

from gateway.websocket_protocol import CoalescingTransport


class RecordingTransport(asyncio.Transport):
    """The socket side of a transport: what reached it, write by write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = False
        self.aborted = False

    def write(self, data: Any) -> None:
        assert not self.closing, "written after close"
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0  # the kernel took everything

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = self.aborted = True


async def next_turn() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_writes_of_one_turn_leave_together_at_its_end() -> None:
    socket_side = RecordingTransport()
    transport = CoalescingTransport(socket_side)
    transport.write(b"frame 1")
    transport.writelines([b"frame 2", b"frame 3"])
    assert socket_side.writes == []
    assert transport.get_write_buffer_size() == 21
    await next_turn()
    assert socket_side.writes == [b"frame 1frame 2frame 3"]
    transport.write(b"frame 4")
    await next_turn()
    assert socket_side.writes[1:] == [b"frame 4"]


async def test_close_sends_what_is_pending_first_and_abort_drops_it() -> None:
    closed, aborted = RecordingTransport(), RecordingTransport()
    for socket_side, end in ((closed, "close"), (aborted, "abort")):
        transport = CoalescingTransport(socket_side)
        transport.write(b"close frame")
        getattr(transport, end)()
        await next_turn()
    assert (closed.writes, closed.closing) == ([b"close frame"], True)
    assert (aborted.writes, aborted.aborted) == ([], True)


async def test_nothing_is_written_once_the_socket_side_is_closing() -> None:
    socket_side = RecordingTransport()
    transport = CoalescingTransport(socket_side)
    transport.write(b"late")
    socket_side.closing = True  # the peer went away before the end of the turn
    await next_turn()
    assert socket_side.writes == []
