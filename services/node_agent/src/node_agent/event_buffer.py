"""A bounded, thread-safe FIFO between the asyncio loop (producer) and the AMQP thread (consumer).

The loop never blocks on it: :meth:`EventBuffer.put` always returns at once. When the buffer is
full the *oldest* item makes room (recent events describe calls still in progress, which matter
more to the gateway than stale ones); every such loss is counted in :attr:`dropped`.

The consumer reads the head with :meth:`peek_many`, publishes it, and only then removes it with
:meth:`pop_if`: an item whose publication failed stays at the head and goes first after the
broker comes back, so order is kept.
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
                self.dropped += 1
            self._items.append(item)
            self._ready.notify()
            return evicted

    def peek(self, timeout: float) -> T | None:
        """The oldest item, waiting up to ``timeout`` seconds for one; None if still empty."""
        head = self.peek_many(1, timeout)
        return head[0] if head else None

    def peek_many(self, limit: int, timeout: float) -> list[T]:
        """Up to ``limit`` oldest items, in order, waiting up to ``timeout`` seconds for one."""
        with self._ready:
            if not self._items:
                self._ready.wait(timeout)
            return list(itertools.islice(self._items, limit))

    def pop_if(self, item: T) -> bool:
        """Remove the head if it is ``item`` (it may have been evicted meanwhile); True if removed."""
        with self._ready:
            if self._items and self._items[0] is item:
                self._items.popleft()
                return True
            return False

    def wake(self) -> None:
        """Let a consumer waiting in :meth:`peek` return now (used when stopping)."""
        with self._ready:
            self._ready.notify_all()
