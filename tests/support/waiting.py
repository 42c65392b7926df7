"""Patient waits without fixed sleeps: poll a condition until it holds or a deadline passes."""

import asyncio
import time
from collections.abc import Awaitable, Callable


async def until(
    check: Callable[[], bool | Awaitable[bool]],
    timeout: float = 30.0,
    interval: float = 0.1,
    message: str | Callable[[], str] = "condition",
) -> None:
    """Return as soon as ``check()`` is truthy; AssertionError naming ``message`` after ``timeout``
    (a callable message is asked at that moment, so it can tell how far things got). The default
    deadline is generous: a wait ends as soon as its condition holds, and a loaded 2-core CI machine
    has been seen to take more than 10 s for what takes 1 s alone."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            said = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {said}")
        await asyncio.sleep(interval)
