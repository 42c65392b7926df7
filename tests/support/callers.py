"""SIP callers through the edge whose calls an app (the test) picks up through the gateway."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.sipp import SippResult, place_calls
from tests.support.waiting import until


@dataclass
class Callers:
    """Calls placed with sipp; ``channels`` are their channels as the gateway lists them."""

    gw: httpx.AsyncClient
    sip_edge: str
    extension: str
    tasks: list[asyncio.Task[SippResult]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)

    async def call(
        self, count: int = 1, hold_ms: int = 30000, tone: Path | None = None, answer: bool = True
    ) -> list[dict[str, Any]]:
        """Place ``count`` more calls, wait for them in Stasis, answer them; return their channels."""
        known = {c["id"] for c in self.channels}
        self.tasks.append(
            asyncio.create_task(
                place_calls(self.sip_edge, self.extension, calls=count, rate=50, hold_ms=hold_ms, tone=tone,
                            timeout=hold_ms / 1000 + 30)
            )
        )  # fmt: skip
        new: list[dict[str, Any]] = []

        async def arrived() -> bool:
            nonlocal new
            new = [c for c in (await self.gw.get("/channels")).json() if c["id"] not in known]
            return len(new) >= count

        try:
            await until(arrived, timeout=15, message=f"{count} new calls in Stasis")
        except AssertionError as exc:
            sipp = self.tasks[-1]
            detail = sipp.result().output[-1500:] if sipp.done() and not sipp.exception() else "still calling"
            raise AssertionError(f"{exc}; saw {[c['id'] for c in new]}; sipp: {detail}") from None
        for channel in new if answer else []:
            response = await self.gw.post(f"/channels/{channel['id']}/answer")
            assert response.status_code == 204, response.text
        self.channels += new
        return new

    async def one_on_each_node(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Two calls, which the edge puts on different nodes (consecutive calls alternate)."""
        first, second = await self.call(2)
        assert node_of(first["id"]) != node_of(second["id"])
        return first, second

    async def hang_up(self, channel_id: str) -> None:
        assert (await self.gw.delete(f"/channels/{channel_id}")).status_code in (204, 404)

    async def finish(self) -> list[SippResult]:
        for channel in self.channels:
            await self.hang_up(channel["id"])
        return list(await asyncio.gather(*self.tasks))


@contextlib.asynccontextmanager
async def callers(gw: httpx.AsyncClient, sip_edge: str, extension: str) -> AsyncIterator[Callers]:
    group = Callers(gw, sip_edge, extension)
    try:
        yield group
    finally:
        await group.finish()


def node_of(channel_id: str) -> str:
    """Channel ids start with the node's systemname."""
    return channel_id.split("-", 1)[0]
