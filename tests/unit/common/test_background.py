import asyncio
from collections.abc import Awaitable, Callable

import pytest

from ariscale_common.background import BackgroundTask, Periodic


async def io_that_turns_cancellation_into_an_error() -> None:
    """What some client libraries do when cancelled in the middle of a read."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        raise ConnectionError("connection closed while reading") from None


async def io_that_swallows_cancellation() -> None:
    """As a ``gather(..., return_exceptions=True)`` of cancelled probes, or a broad ``except``."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return


async def stopped(task: BackgroundTask) -> bool:
    """Whether ``stop`` returns (within a generous deadline; a task that never ends is left)."""
    stopping = asyncio.ensure_future(task.stop())
    done, _ = await asyncio.wait({stopping}, timeout=30)
    return bool(done) and not task.running


class Counted:
    """A step or run that counts its calls and signals the first."""

    def __init__(self, io: Callable[[], Awaitable[None]]) -> None:
        self.calls = 0
        self.began = asyncio.Event()
        self._io = io

    async def __call__(self) -> None:
        self.calls += 1
        self.began.set()
        await self._io()


@pytest.mark.parametrize(
    "io",
    [io_that_turns_cancellation_into_an_error, io_that_swallows_cancellation],
    ids=["turned into an error", "swallowed"],
)
async def test_a_periodic_task_stops_whatever_its_step_makes_of_the_cancellation(
    io: Callable[[], Awaitable[None]],
) -> None:
    step = Counted(io)
    task = Periodic("test-periodic", step, interval=0.01)
    task.start()
    await step.began.wait()
    assert await stopped(task), "the task went on to its next step"
    assert step.calls == 1


async def test_a_background_task_is_not_restarted_after_a_cancellation_turned_into_an_error() -> None:
    run = Counted(io_that_turns_cancellation_into_an_error)
    task = BackgroundTask("test-task", run)
    task.start()
    await run.began.wait()
    assert await stopped(task), "the task was restarted"
    assert run.calls == 1
