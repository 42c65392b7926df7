"""An existing, Swagger-driven ARI client library (asyncari, from PyPI) works unchanged.

It builds itself from /ari/api-docs, opens /ari/events and calls REST exactly as it would
against one Asterisk; the call it handles came through the SIP edge to either node.
"""

import asyncio
import gc

import anyio
import asyncari
import httpx
import pytest

from tests.e2e.conftest import RegisteredApp
from tests.support.gateway import accepts_app
from tests.support.sipp import place_calls
from tests.support.waiting import until


# asyncari leaves anyio memory streams unclosed when a listener is left: its warning, not ours.
# They are collected inside this test (gc below), so no later test inherits them.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
async def test_asyncari_handles_a_call_through_the_gateway(
    gateway_url: str, registered_app: RegisteredApp, sip_edge: str
) -> None:
    name, password = registered_app.auth
    async with httpx.AsyncClient(base_url=f"{gateway_url}/ari", auth=registered_app.auth) as plain:
        await until(lambda: accepts_app(plain), message="gateway accepts the new app")
    async with asyncari.connect(f"{gateway_url}/", name, name, password) as client:
        assert await client.channels.list() == []
        bridge = await client.bridges.create(type="mixing")
        call = asyncio.create_task(place_calls(sip_edge, registered_app.extension, hold_ms=1000, timeout=20))
        with anyio.fail_after(15):
            async with client.on_channel_event("StasisStart") as listener:
                async for objs, event in listener:
                    channel = objs["channel"]
                    assert event["channel"]["dialplan"]["exten"] == registered_app.extension
                    await channel.answer()
                    await channel.play(media="sound:beep")
                    await bridge.addChannel(channel=channel.id)
                    break
        listed = await client.bridges.get(bridgeId=bridge.id)
        assert listed.json["channels"] == [channel.id]
        result = await call
        await bridge.destroy()
    gc.collect()
    assert result.successful == 1, result.output[-2000:]
