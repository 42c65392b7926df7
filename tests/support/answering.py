"""Stand-ins for an app that answers its calls (sipp's caller waits for a 200 OK)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import httpx

from tests.support.stasis_bus import BusTap


@contextlib.asynccontextmanager
async def in_background(job: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run ``job`` as a task for the duration of the block, then cancel it."""
    task = asyncio.create_task(job)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def answering_from_bus(
    tap: BusTap, node_aris: dict[str, str], auth: tuple[str, str]
) -> contextlib.AbstractAsyncContextManager[None]:
    """Answer each call whose ``StasisStart`` reaches ``tap``, on the node that published it, as an
    app driven by the bus would."""

    async def answer_loop() -> None:
        answered = 0
        async with httpx.AsyncClient(auth=auth, timeout=5) as client:
            while True:
                starts = tap.events("StasisStart")
                for start in starts[answered:]:
                    channel = start.event["channel"]["id"]
                    # 404 if the caller already hung up: nothing to answer then.
                    await client.post(f"{node_aris[start.node_id]}/channels/{channel}/answer")
                answered = len(starts)
                await asyncio.sleep(0.02)

    return in_background(answer_loop())


def answering_over_rest(ari_url: str, auth: tuple[str, str]) -> contextlib.AbstractAsyncContextManager[None]:
    """Answer every ringing channel on one node, found by polling ARI (works without the bus)."""

    async def answer_loop() -> None:
        answered: set[str] = set()
        async with httpx.AsyncClient(base_url=ari_url, auth=auth, timeout=5) as client:
            while True:
                for channel in (await client.get("/channels")).json():
                    if channel["state"] == "Ring" and channel["id"] not in answered:
                        # Before it enters Stasis a channel rings too, and ARI refuses to answer
                        # it (409): it is tried again at the next poll (a loaded run left one
                        # unanswered for good when it was not).
                        if (await client.post(f"/channels/{channel['id']}/answer")).is_success:
                            answered.add(channel["id"])
                await asyncio.sleep(0.05)

    return in_background(answer_loop())
