"""Messages from the Kombu thread to the event loop without a wait per message, in order.

Each consumer has a :class:`Lane`: the thread appends its deliveries (non-blocking); one task on
the loop handles them one after another, in delivery order, and puts each :class:`Outcome` on a
thread-safe queue that the thread settles (ack, publish some then ack, or take back) on its next
turn.
Channels are not thread-safe, so only the thread ever touches a message.

A message that could not be handled is taken back with everything delivered after it: the
thread recovers the lane's channel (``basic.recover``: every unacknowledged message back to the
queue, in order) after a pause. Until then the lane skips what it still holds of that generation,
so nothing is handled twice and nothing overtakes the failed message.
"""

import asyncio
import logging
import queue
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Publish:
    """Publish ``body`` (default: the message's) to ``exchange``/``key`` with ``headers``, then ack it."""

    exchange: Any  # a kombu Exchange, or "" for the default exchange
    key: str
    headers: dict[str, Any]
    body: bytes | None = None


ACK = "ack"
RETRY = "retry"  # take it back (with everything after it) and deliver it again after a pause
FINISHED = "finished"  # (no message) the lane stopped after the message in hand, as asked
Outcome = str | tuple[Publish, ...]  # a tuple: publish them all, then ack
Work = Callable[[], Coroutine[Any, Any, Outcome]]


@dataclass(frozen=True)
class Item:
    message: Any
    generation: int
    work: Work


class Lane:
    """One consumer's deliveries, handled on the loop one at a time (thread-side: push, retry)."""

    def __init__(
        self, name: str, channel: Any, settled: "queue.SimpleQueue[tuple[Lane, Item | None, Outcome]]"
    ) -> None:
        self.name = name
        self.channel = channel
        self.generation = 0  # raised (thread side) each time the channel is recovered
        self.recover_at: float | None = None  # thread side: when to take back the failed message
        self._settled = settled
        self._inbox: asyncio.Queue[Item] = asyncio.Queue()
        self._task: Any = None  # concurrent.futures.Future of the loop-side task
        self._busy = False  # loop side: a message is being handled
        self._finishing = False  # loop side: stop after the message in hand

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._task = asyncio.run_coroutine_threadsafe(self._serve(), loop)

    def push(self, message: Any, work: Work) -> None:
        """Hand one delivery to the loop; returns at once (thread side)."""
        self._loop.call_soon_threadsafe(self._inbox.put_nowait, Item(message, self.generation, work))

    def finish(self) -> None:
        """Stop after the message in hand, then report FINISHED (thread side); the rest are skipped."""
        self._loop.call_soon_threadsafe(self._finish_now)

    def _finish_now(self) -> None:
        self._finishing = True
        if not self._busy:
            self._settled.put((self, None, FINISHED))

    def close(self) -> None:
        """Stop handling (thread side); what it still holds goes back with its channel."""
        if self._task is not None:
            self._task.cancel()

    async def _serve(self) -> None:
        failed = -1  # the generation whose deliveries are being taken back
        while True:
            item = await self._inbox.get()
            if item.generation <= failed or self._finishing:
                continue
            self._busy = True
            try:
                outcome = await self._handle(item)
            finally:
                self._busy = False
            if outcome == RETRY:
                failed = item.generation
            self._settled.put((self, item, outcome))
            if self._finishing:
                self._settled.put((self, None, FINISHED))

    async def _handle(self, item: Item) -> Outcome:
        try:
            return await item.work()
        except asyncio.CancelledError:
            raise
        except Retry as exc:
            log.debug("%s: %s; retried", self.name, exc)
        except Exception:
            log.exception(
                "%s: could not handle a message (%s); retried", self.name, item.message.delivery_info
            )
        return RETRY


class Retry(Exception):
    """Leave the message (and its successors) queued for now: raised by work that cannot proceed."""
