"""The compatibility flow with PyPI's ari-client (run in its own venv by tests/support/compat.py).

It sends JSON bodies (addChannel's channel among them) and has no call for listing bridges or for
channel variables: those go through its own HTTP client.
"""

import asyncio
import json
import os
import sys
from typing import Any
from urllib.parse import urlparse

from ari_client import AriClient  # type: ignore[import-not-found]


def dumped(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True, by_alias=True)
    if isinstance(value, list):
        return [dumped(v) for v in value]
    return value


async def main() -> None:
    url = urlparse(os.environ["ARI_URL"])
    user, password, app = os.environ["ARI_USER"], os.environ["ARI_PASSWORD"], os.environ["ARI_APP"]
    client = AriClient(host=str(url.hostname), port=int(url.port or 80), ari_user=user, ari_password=password)
    events: list[dict[str, Any]] = []
    waiting: asyncio.Queue[Any] = asyncio.Queue()

    async def on_any(event: Any) -> None:
        events.append(dumped(event))
        if events[-1]["type"] in ("StasisStart", "PlaybackFinished"):
            waiting.put_nowait(event)

    for event_type in sys.argv[1].split(","):
        client.on_event(event_type)(on_any)
    await client.connect(app=app)
    print("ready", flush=True)
    steps: dict[str, Any] = {}
    channel = (await asyncio.wait_for(waiting.get(), 60)).channel
    steps["answer"] = dumped(await channel.answer())
    steps["play"] = dumped(await channel.play(media="sound:beep"))
    while (await asyncio.wait_for(waiting.get(), 30)).type != "PlaybackFinished":
        pass
    bridge = await client.ari.create_bridge(type="mixing")
    steps["create_bridge"] = dumped(bridge)
    steps["add_channel"] = dumped(await bridge.add_channel(channel.id))
    http = client.ari.client
    steps["list_bridges"] = (await http.get("/bridges")).json()
    await http.post(f"/channels/{channel.id}/variable", params={"variable": "COMPAT", "value": "42"})
    steps["get_var"] = (
        await http.get(f"/channels/{channel.id}/variable", params={"variable": "COMPAT"})
    ).json()
    steps["get_channel"] = (await http.get(f"/channels/{channel.id}")).json()
    steps["hangup"] = dumped(await channel.stop())
    await asyncio.sleep(1)
    steps["destroy_bridge"] = dumped(await bridge.stop())
    await asyncio.sleep(1)
    await client.disconnect()
    print(json.dumps({"steps": steps, "events": events}, default=str), flush=True)


asyncio.run(main())
