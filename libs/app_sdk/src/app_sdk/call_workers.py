"""One worker per call: a call's events are handled in order, different calls concurrently.

Events are keyed by :func:`ariscale_common.calls.call_of`; events of no call (``DeviceStateChanged``…)
share one worker of their own. A worker ends once its call's last event (``StasisEnd``,
``ChannelDestroyed``, ``BridgeDestroyed``) has been handled and nothing else is queued for it.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from app_sdk.context import Event
from ariscale_common.calls import LAST_EVENTS, call_of, channel_of

Handle = Callable[[Event], Awaitable[None]]

_NO_CALL = ""  # the key of events that belong to no call


class CallWorkers:
    """Queues each event to its call's worker; a handler's exception is logged and the worker goes on."""

    def __init__(self, handle: Handle, log: logging.Logger, app_name: str) -> None:
        self._handle = handle
        self._log = log
        self._app_name = app_name
        self._queues: dict[str, asyncio.Queue[Event]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def put(self, event: Event) -> None:
        """Queue ``event`` behind its call's earlier events (starting the call's worker if needed)."""
        key = call_of(event) or _NO_CALL
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            self._tasks[key] = asyncio.create_task(self._work(key, queue), name=f"call {key or '-'}")
        queue.put_nowait(event)

    def active(self) -> set[str]:
        """The calls that have a worker now."""
        return set(self._tasks)

    async def close(self) -> None:
        """Stop every worker (events still queued are dropped)."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        self._queues.clear()

    async def _work(self, key: str, queue: "asyncio.Queue[Event]") -> None:
        while True:
            event = await queue.get()
            try:
                await self._handle(event)
            except Exception:
                self._log.exception(
                    "app %s, call %s: handler for %s failed",
                    self._app_name, channel_of(key) or key or "-", event.get("type"),
                )  # fmt: skip
            if key and event.get("type") in LAST_EVENTS and queue.empty():
                self._queues.pop(key, None)
                self._tasks.pop(key, None)
                return
