"""A bounded, thread-safe FIFO between the asyncio loop (producer) and the AMQP thread (consumer).

The loop never blocks on it: :meth:`EventBuffer.put` always returns at once. When the buffer is
full the *oldest* item makes room (recent events describe calls still in progress, which matter
more to the gateway than stale ones); every such loss is counted in :attr:`dropped`.

The consumer takes the items it has not sent yet with :meth:`take_unsent` (they stay in the
buffer), publishes them, and removes each from the head with :meth:`pop_if` once the broker
confirmed it. After a failure :meth:`rewind` makes every item still there unsent again: what was
not confirmed goes first after the broker comes back, so order is kept (at least once).
"""

import itertools
import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class EventBuffer(Generic[T]):
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.dropped = 0
        self.received = 0
        self._items: deque[T] = deque()
        self._sent = 0  # the first _sent items were handed out by take_unsent
        self._ready = threading.Condition()

    def __len__(self) -> int:
        with self._ready:
            return len(self._items)

    def put(self, item: T) -> T | None:
        """Append ``item``; return the oldest item if it had to go to make room, else None."""
        with self._ready:
            self.received += 1
            evicted = None
            if len(self._items) >= self.capacity:
                # An evicted head may be in flight: it can still arrive, but it counts as dropped.
                evicted = self._items.popleft()
                self._sent = max(0, self._sent - 1)
                self.dropped += 1
            self._items.append(item)
            self._ready.notify()
            return evicted

    def peek(self, timeout: float) -> T | None:
        """The oldest item, waiting up to ``timeout`` seconds for one; None if still empty."""
        with self._ready:
            if not self._items:
                self._ready.wait(timeout)
            return self._items[0] if self._items else None

    def take_unsent(self, limit: int, timeout: float) -> list[T]:
        """Up to ``limit`` of the oldest items not taken yet, in order, waiting up to ``timeout``
        seconds for one; they stay in the buffer (and count in its length) until popped."""
        with self._ready:
            if self._sent >= len(self._items) and timeout > 0:
                self._ready.wait(timeout)
            taken = list(itertools.islice(self._items, self._sent, self._sent + limit))
            self._sent += len(taken)
            return taken

    def rewind(self) -> None:
        """Every item still buffered is unsent again (the connection that took them failed)."""
        with self._ready:
            self._sent = 0

    def pop_if(self, item: T) -> bool:
        """Remove the head if it is ``item`` (it may have been evicted meanwhile); True if removed."""
        with self._ready:
            if self._items and self._items[0] is item:
                self._items.popleft()
                self._sent = max(0, self._sent - 1)
                return True
            return False

    def wake(self) -> None:
        """Let a consumer waiting in :meth:`peek` return now (used when stopping)."""
        with self._ready:
            self._ready.notify_all()
