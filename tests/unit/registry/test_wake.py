"""The wakeable pause of the registry's loops: ends early when woken, and is ready to pause again."""

import asyncio

from registry.wake import sleep_or_wake


async def test_a_wake_set_before_the_pause_ends_it_at_once_and_is_cleared() -> None:
    wake = asyncio.Event()
    wake.set()
    await asyncio.wait_for(sleep_or_wake(wake, 3600), timeout=5)
    assert not wake.is_set()


async def test_a_wake_during_the_pause_ends_it() -> None:
    wake = asyncio.Event()
    pause = asyncio.create_task(sleep_or_wake(wake, 3600))
    await asyncio.sleep(0)
    assert not pause.done()
    wake.set()
    await asyncio.wait_for(pause, timeout=5)
    assert not wake.is_set()


async def test_without_a_wake_the_pause_ends_after_its_delay() -> None:
    wake = asyncio.Event()
    await asyncio.wait_for(sleep_or_wake(wake, 0.01), timeout=5)
    assert not wake.is_set()
