"""Background tasks of a service: started with it, cancelled with it, and never dying silently."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# A periodic step may return the delay before the next step (e.g. a backoff); None keeps the interval.
Step = Callable[[], Awaitable[float | None]]


RESTART_AFTER_S = 1.0


def _asked_to_stop() -> None:
    """Raise CancelledError when this task was cancelled: some client libraries turn the
    CancelledError they get in the middle of I/O into their own error (a connection error, a
    timeout), and a loop that retries on errors would then never end (a service's shutdown
    waited for ever on one such task)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class BackgroundTask:
    """One named asyncio task running ``run`` until stopped; a crash is logged and ``run`` restarted."""

    def __init__(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self._run = run
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._guarded(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _guarded(self) -> None:
        while True:
            try:
                await self._run()
                return
            except Exception:  # a bug: say so loudly, and keep the service's task alive
                _asked_to_stop()
                log.exception("background task %s crashed; restarting it", self.name)
            await asyncio.sleep(RESTART_AFTER_S)


class Periodic(BackgroundTask):
    """Runs ``step`` every ``interval`` seconds; a failing step is logged at WARNING and retried."""

    def __init__(self, name: str, step: Step, interval: float, first_delay: float = 0.0) -> None:
        super().__init__(name, self._forever)
        self._step = step
        self.interval = interval
        self._first_delay = first_delay

    async def _forever(self) -> None:
        delay, failing = self._first_delay, False
        while True:
            if delay:
                await asyncio.sleep(delay)
            delay = self.interval
            try:
                delay = await self._step() or self.interval
            except Exception as exc:  # the step's own failure: say what, try again next turn
                _asked_to_stop()
                # The first failure of a streak is a warning; its repeats would only flood the log.
                level = logging.DEBUG if failing else logging.WARNING
                log.log(level, "%s failed, retrying every %.1f s: %r", self.name, self.interval, exc)
                failing = True
            else:
                _asked_to_stop()  # a step may swallow its CancelledError whole
                if failing:
                    log.info("%s works again", self.name)
                failing = False
