"""The pause of a periodic loop that someone can end early by setting an event."""

import asyncio
import contextlib


async def sleep_or_wake(wake: asyncio.Event, delay: float) -> None:
    """Wait ``delay`` seconds or until ``wake`` is set, whichever comes first; then clear ``wake``."""
    # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await wake.wait()
    wake.clear()
