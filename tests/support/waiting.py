"""Patient waits without fixed sleeps: poll a condition until it holds or a deadline passes."""

import asyncio
import time
from collections.abc import Awaitable, Callable


async def until(
    check: Callable[[], bool | Awaitable[bool]],
    timeout: float = 10.0,
    interval: float = 0.1,
    message: str = "condition",
) -> None:
    """Return as soon as ``check()`` is truthy; AssertionError naming ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {message}")
        await asyncio.sleep(interval)
