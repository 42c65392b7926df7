"""Parameters wherever they arrive: the gateway reads a JSON body as Asterisk does (real calls)."""

import uuid
from collections import Counter

import httpx

from tests.e2e.conftest import BLACK_HOLE
from tests.support.bridges import bridge_members, new_bridge
from tests.support.callers import Callers, node_of


async def test_add_and_remove_channels_named_in_a_json_body(
    gw: httpx.AsyncClient, app_callers: Callers
) -> None:
    channels = await app_callers.call(2)
    assert set(Counter(node_of(c["id"]) for c in channels)) == {"n1", "n2"}
    ids = sorted(c["id"] for c in channels)
    # The bridge's id in the body too, as PyPI's ari-client sends it.
    bridge_id = f"body-{uuid.uuid4().hex[:8]}"
    created = await gw.post("/bridges", json={"bridgeId": bridge_id, "type": "mixing"})
    assert created.status_code == 200, created.text
    assert created.json()["id"] == bridge_id

    added = await gw.post(f"/bridges/{bridge_id}/addChannel", json={"channel": ids})
    assert added.status_code == 204, added.text
    assert await bridge_members(gw, bridge_id) == ids

    removed = await gw.post(f"/bridges/{bridge_id}/removeChannel", json={"channel": ids[0]})
    assert removed.status_code == 204, removed.text
    assert (await gw.get(f"/bridges/{bridge_id}")).json()["channels"] == ids[1:]

    # The body wins over the query, as on one Asterisk.
    again = await gw.post(
        f"/bridges/{bridge_id}/addChannel", params={"channel": ids[1]}, json={"channel": ids[0]}
    )
    assert again.status_code == 204, again.text
    assert await bridge_members(gw, bridge_id) == ids
    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204


async def test_an_unknown_channel_in_a_json_body_is_refused(gw: httpx.AsyncClient) -> None:
    bridge_id = await new_bridge(gw, prefix="body")
    answer = await gw.post(f"/bridges/{bridge_id}/addChannel", json={"channel": "n1-no-such-channel"})
    assert answer.status_code == 400, answer.text
    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204


async def test_an_app_named_in_a_json_body_must_be_the_callers_own(gw: httpx.AsyncClient) -> None:
    answer = await gw.post("/channels", json={"endpoint": BLACK_HOLE, "app": "someone-else"})
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"] == "not-your-app"
