"""The cluster answers and notifies with one identity, whichever node is behind (real calls)."""

import httpx

from tests.e2e.conftest import RegisteredApp
from tests.support.ari import AppEvents
from tests.support.callers import callers, node_of
from tests.support.waiting import until


async def test_rest_and_events_name_one_asterisk(
    gw: httpx.AsyncClient, sip_edge: str, registered_app: RegisteredApp, app_events: AppEvents
) -> None:
    ping = (await gw.get("/asterisk/ping")).json()
    info = (await gw.get("/asterisk/info")).json()
    assert info["system"]["entity_id"] == ping["asterisk_id"]
    assert info["config"]["name"] == "ariscale"
    for _ in range(3):  # whichever node answers
        assert (await gw.get("/asterisk/ping")).json()["asterisk_id"] == ping["asterisk_id"]
    async with callers(gw, sip_edge, registered_app.extension) as group:
        channels = await group.call(2)
        assert {node_of(c["id"]) for c in channels} == {"n1", "n2"}
        await until(lambda: len(app_events.of_type("StasisStart")) >= 2, message="both calls started")
        assert {e["asterisk_id"] for e in app_events.events} == {ping["asterisk_id"]}
