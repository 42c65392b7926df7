"""The compatibility flow with PyPI's aioari (run in its own venv by tests/support/compat.py)."""

import asyncio
import json
import os
from typing import Any

import aioari  # type: ignore[import-not-found]

RELEVANT = {"StasisStart", "PlaybackFinished"}


async def main() -> None:
    url, app = os.environ["ARI_URL"], os.environ["ARI_APP"]
    client = await aioari.connect(url + "/", os.environ["ARI_USER"], os.environ["ARI_PASSWORD"])
    events: list[dict[str, Any]] = []
    waiting: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def on_any(event: dict[str, Any]) -> None:
        events.append(event)
        if event["type"] in RELEVANT:
            waiting.put_nowait(event)

    client.on_event("*", on_any)
    runner = asyncio.create_task(client.run(apps=app))
    print("ready", flush=True)
    steps: dict[str, Any] = {}
    start = await asyncio.wait_for(waiting.get(), 60)
    channel = await client.channels.get(channelId=start["channel"]["id"])
    steps["answer"] = await channel.answer()
    playback = await channel.play(media="sound:beep")
    steps["play"] = playback.json
    while (await asyncio.wait_for(waiting.get(), 30))["type"] != "PlaybackFinished":
        pass
    bridge = await client.bridges.create(type="mixing")
    steps["create_bridge"] = bridge.json
    steps["add_channel"] = await bridge.addChannel(channel=channel.id)
    steps["list_bridges"] = [b.json for b in await client.bridges.list()]
    await channel.setChannelVar(variable="COMPAT", value="42")
    steps["get_var"] = await channel.getChannelVar(variable="COMPAT")
    steps["get_channel"] = (await client.channels.get(channelId=channel.id)).json
    steps["hangup"] = await channel.hangup()
    await asyncio.sleep(1)
    steps["destroy_bridge"] = await bridge.destroy()
    await asyncio.sleep(1)
    runner.cancel()
    await client.close()
    print(json.dumps({"steps": steps, "events": events}, default=str), flush=True)


asyncio.run(main())
