"""Tenants cannot crash a node or touch each other (issue 11): one test per row of its table.

App A is the fixture's ``registered_app`` (``gw``); B, the attacker, is a second app registered
for the test (``intruder``). Requests that would hurt a node are only ever sent to the gateway;
each test checks the gateway answered itself (its ``error`` id) and the node is unharmed.
"""

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets

from ariscale_cluster import Cluster
from ariscale_cluster.extra_gateway import start_extra_gateway, stop_extra_gateway
from bench.stuck_consumer import PACED, TARGET_ID, AppAuth, stuck_beside
from tests.e2e.conftest import BLACK_HOLE, OtherApp, RegisteredApp
from tests.support.gateway import accepts_app, answers_get
from tests.support.waiting import until


@pytest.fixture
def intruder(other_app: OtherApp) -> OtherApp:
    """App B, the attacker."""
    return other_app


async def create_channel(client: httpx.AsyncClient, app: str) -> str:
    response = await client.post("/channels/create", params={"endpoint": BLACK_HOLE, "app": app})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


@pytest.fixture
async def victim_and_own(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, intruder: OtherApp
) -> AsyncIterator[tuple[str, str]]:
    """A channel of app A (the victim) and one of app B's own; both deleted afterwards."""
    victim = await create_channel(gw, registered_app.name)
    own = await create_channel(intruder.client, intruder.name)
    try:
        yield victim, own
    finally:
        await intruder.client.delete(f"/channels/{own}")
        await gw.delete(f"/channels/{victim}")


def refused_by_gateway(response: httpx.Response, status: int, error: str) -> None:
    """The gateway answered (its own error id: Asterisk's errors carry only a message)."""
    assert response.status_code == status, response.text
    assert response.json()["error"] == error, response.text


async def node_global(nodes: dict[str, httpx.AsyncClient], variable: str) -> set[str]:
    """The global's value on every node, read straight from each node."""
    values = set()
    for client in nodes.values():
        answer = await client.get("/asterisk/variable", params={"variable": variable})
        values.add(answer.json().get("value", "") if answer.status_code == 200 else "")
    return values


# -- row 1: a malformed request never reaches a node ----------------------------------------------


async def test_row1_bridge_variable_without_a_name_is_refused_before_the_node(
    gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient]
) -> None:
    bridge = await gw.post("/bridges", params={"type": "mixing"})
    assert bridge.status_code == 200, bridge.text
    bridge_id = bridge.json()["id"]
    try:
        # Asterisk 22.10 dereferences the missing name: the node would segfault if it saw these.
        refused_by_gateway(await gw.post(f"/bridges/{bridge_id}/variable"), 400, "invalid-parameter")
        refused_by_gateway(
            await gw.post(f"/bridges/{bridge_id}/variable", json={"variable": 5, "value": "x"}),
            400,
            "invalid-parameter",
        )
        refused_by_gateway(
            await gw.post(
                f"/bridges/{bridge_id}/variable", params={"variable": "X"}, json={"variable": None}
            ),
            400,
            "invalid-parameter",
        )
        for client in nodes.values():
            assert (await client.get("/asterisk/ping")).status_code == 200
        assert (await gw.get(f"/bridges/{bridge_id}")).status_code == 200
        assert (
            await gw.post(f"/bridges/{bridge_id}/variable", params={"variable": "X", "value": "1"})
        ).status_code == 204
    finally:
        await gw.delete(f"/bridges/{bridge_id}")


# -- row 2: another app's number cannot be taken through a channel variable ------------------------


async def test_row2_global_through_a_channel_variable_is_refused(
    gw: httpx.AsyncClient,
    registered_app: RegisteredApp,
    intruder: OtherApp,
    nodes: dict[str, httpx.AsyncClient],
) -> None:
    own = await create_channel(intruder.client, intruder.name)
    victim = f"APP_{registered_app.extension}"
    try:
        for name in (f"GLOBAL({victim})", f"global({victim})", " GLOBAL(APP_7771)", "GLOBAL(APP_424242)"):
            answer = await intruder.client.post(
                f"/channels/{own}/variable", params={"variable": name, "value": intruder.name}
            )
            refused_by_gateway(answer, 403, "forbidden-variable")
        in_body = await intruder.client.post(
            f"/channels/{own}/variable", json={"variable": f"GLOBAL({victim})", "value": intruder.name}
        )
        refused_by_gateway(in_body, 403, "forbidden-variable")
        assert await node_global(nodes, victim) == {registered_app.name}
        assert await node_global(nodes, "APP_424242") == {""}
    finally:
        await intruder.client.delete(f"/channels/{own}")


# -- row 3: parameters in a JSON (or form) body obey the same rules -------------------------------


async def test_row3_app_in_a_body_cannot_name_another_app(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, intruder: OtherApp
) -> None:
    as_json = await intruder.client.post(
        "/channels", json={"endpoint": BLACK_HOLE, "app": registered_app.name}
    )
    refused_by_gateway(as_json, 403, "not-your-app")
    # The query names B, the body (which Asterisk reads last) names A.
    mixed = await intruder.client.post(
        "/channels", params={"endpoint": BLACK_HOLE, "app": intruder.name}, json={"app": registered_app.name}
    )
    refused_by_gateway(mixed, 403, "not-your-app")
    form = await intruder.client.post(
        "/channels/create", data={"endpoint": BLACK_HOLE, "app": registered_app.name}
    )
    refused_by_gateway(form, 403, "not-your-app")
    repeated = await intruder.client.post(
        "/channels/create",
        params=[("endpoint", BLACK_HOLE), ("app", intruder.name), ("app", registered_app.name)],
    )
    refused_by_gateway(repeated, 403, "not-your-app")
    assert (await gw.get("/channels")).json() == []


# -- row 4: no reading other channels' variables ---------------------------------------------------


async def test_row4_import_and_friends_are_refused(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, intruder: OtherApp, victim_and_own: tuple[str, str]
) -> None:
    victim, own = victim_and_own
    assert (
        await gw.post(f"/channels/{victim}/variable", params={"variable": "SECRET", "value": "s3"})
    ).status_code == 204
    for name in (f"IMPORT({victim},SECRET)", f"import({victim},SECRET)", f"SHARED(SECRET,{victim})",
                 "ENV(PATH)", "SHELL(id)", f"APP_{registered_app.extension}", "ASTLOGDIR"):  # fmt: skip
        answer = await intruder.client.get(f"/channels/{own}/variable", params={"variable": name})
        refused_by_gateway(answer, 403, "forbidden-variable")
    callerid = await intruder.client.get(f"/channels/{own}/variable", params={"variable": "CALLERID(all)"})
    assert callerid.status_code == 200, callerid.text
    assert "s3" not in callerid.text


# -- row 14: control characters, encoded slashes, deep JSON: 4xx JSON, never 500 ------------------


async def test_row14_odd_input_gets_a_json_4xx(gw: httpx.AsyncClient, registered_app: RegisteredApp) -> None:
    for raw in ("%01", "%00", "%0A", "%7F", "a%2Fb", "%2F"):
        answer = await gw.get(f"/channels/{raw}")
        assert answer.status_code in (400, 404), (raw, answer.status_code, answer.text)
        assert "message" in answer.json()
    deep = '{"endpoint": "x", "app": "y", "variables": ' + "[" * 3000 + "]" * 3000 + "}"
    nested = await gw.post("/channels", content=deep, headers={"Content-Type": "application/json"})
    refused_by_gateway(nested, 400, "invalid-parameter")
    broken = await gw.post("/channels", content=b"{", headers={"Content-Type": "application/json"})
    refused_by_gateway(broken, 400, "invalid-parameter")
    control = await gw.post("/channels", params={"endpoint": "PJSIP/x\r\nX: y", "app": registered_app.name})
    refused_by_gateway(control, 400, "invalid-parameter")
    assert json.loads((await gw.get("/channels")).text) == []


# -- row 16: node-wide reads are for operators ----------------------------------------------------


async def test_row16_node_wide_reads_are_admin_only(
    registered_app: RegisteredApp, intruder: OtherApp
) -> None:
    for path, params in (
        ("/asterisk/variable", {"variable": f"APP_{registered_app.extension}"}),
        ("/asterisk/config/dynamic/res_pjsip/endpoint/cluster", {}),
        ("/asterisk/logging", {}),
        ("/asterisk/modules", {}),
        ("/asterisk/modules/res_pjsip.so", {}),
    ):
        refused_by_gateway(await intruder.client.get(path, params=params), 403, "admin-only")
    assert (await intruder.client.get("/asterisk/ping")).status_code == 200


# -- row 13: half-open connections and unbounded URLs ----------------------------------------------


async def test_row13_half_sent_headers_are_cut_off(gateway_url: str) -> None:
    host, port = gateway_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b"GET /ari/channels HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
        await writer.drain()
        # The server closes the connection (EOF) well before this deadline; uvicorn alone never does.
        assert await asyncio.wait_for(reader.read(), timeout=60) == b""
    finally:
        writer.close()


async def test_row13_long_urls_are_refused(gateway_url: str, registered_app: RegisteredApp) -> None:
    padding = "x" * 8192
    async with httpx.AsyncClient(base_url=gateway_url, auth=registered_app.auth, timeout=10) as client:
        refused_by_gateway(await client.get(f"/ari/channels?pad={padding}"), 414, "uri-too-long")
        too_many = {f"x-h{i}": "y" * 1000 for i in range(20)}
        refused_by_gateway(await client.get("/ari/channels", headers=too_many), 431, "headers-too-large")
    key = f"{registered_app.name}:{registered_app.password}"
    query = f"app={registered_app.name}&api_key={key}&pad={padding}"
    url = f"{gateway_url.replace('http', 'ws')}/ari/events?{query}"
    async with asyncio.timeout(30):  # refused at once, never held open
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(url):
                pass


# -- row 5: another app's recording name cannot be recorded over -----------------------------------


async def _bridge(client: httpx.AsyncClient) -> str:
    created = await client.post("/bridges", params={"type": "mixing"})
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def test_row5_recording_over_another_apps_file_is_refused(
    gw: httpx.AsyncClient, intruder: OtherApp
) -> None:
    own, theirs = await _bridge(gw), await _bridge(intruder.client)
    name = f"rec-{own[:8]}"
    try:
        started = await gw.post(f"/bridges/{own}/record", params={"name": name, "format": "wav"})
        assert started.status_code == 201, started.text
        assert (await gw.post(f"/recordings/live/{name}/stop")).status_code == 204
        await until(
            lambda: answers_get(gw, f"/recordings/stored/{name}", 200), message="A's recording is stored"
        )
        for if_exists in ("overwrite", "append", "fail"):
            attempt = await intruder.client.post(
                f"/bridges/{theirs}/record", params={"name": name, "format": "wav", "ifExists": if_exists}
            )
            refused_by_gateway(attempt, 409, "id-in-use")
        traversal = await intruder.client.post(
            f"/bridges/{theirs}/record", params={"name": f"x/../{name}", "format": "wav"}
        )
        refused_by_gateway(traversal, 400, "invalid-recording-name")
        assert (await intruder.client.get(f"/recordings/stored/{name}/file")).status_code == 404
        assert (await gw.get(f"/recordings/stored/{name}")).status_code == 200
    finally:
        await gw.delete(f"/recordings/stored/{name}")
        await gw.delete(f"/bridges/{own}")
        await intruder.client.delete(f"/bridges/{theirs}")


# -- row 6: ids another app created cannot be created again (shadowed) -----------------------------


async def test_row6_snoop_and_playback_ids_of_another_app_are_refused(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, intruder: OtherApp, victim_and_own: tuple[str, str]
) -> None:
    victim, own = victim_and_own
    bridge, their_bridge = await _bridge(gw), await _bridge(intruder.client)
    playback = f"pb-{victim[-6:]}"
    try:
        # A long playback on A's bridge (a created channel cannot play before it is answered).
        played = await gw.post(f"/bridges/{bridge}/play/{playback}", params={"media": "tone:ring"})
        assert played.status_code == 201, played.text
        snoop = await intruder.client.post(
            f"/channels/{own}/snoop/{victim}", params={"app": intruder.name, "spy": "in"}
        )
        refused_by_gateway(snoop, 409, "id-in-use")
        snoop_query = await intruder.client.post(
            f"/channels/{own}/snoop", params={"app": intruder.name, "spy": "in", "snoopId": victim}
        )
        refused_by_gateway(snoop_query, 409, "id-in-use")
        replay = await intruder.client.post(
            f"/channels/{own}/play/{playback}", params={"media": "sound:beep"}
        )
        refused_by_gateway(replay, 409, "id-in-use")
        other = await intruder.client.post(
            "/channels", params={"endpoint": BLACK_HOLE, "app": intruder.name, "otherChannelId": victim}
        )
        refused_by_gateway(other, 409, "id-in-use")
        assert (await gw.get(f"/channels/{victim}")).status_code == 200
        assert (await gw.get(f"/playbacks/{playback}")).status_code == 200
    finally:
        await gw.delete(f"/bridges/{bridge}")
        await intruder.client.delete(f"/bridges/{their_bridge}")


# -- row 7: subscriptions to what is not the app's; subscriptions die with the app -----------------


async def test_row7_subscriptions_to_another_apps_call_are_refused(
    gw: httpx.AsyncClient,
    registered_app: RegisteredApp,
    intruder: OtherApp,
    nodes: dict[str, httpx.AsyncClient],
) -> None:
    victim = await create_channel(gw, registered_app.name)
    path = f"/applications/{intruder.name}/subscription"
    try:
        # (an endpoint is every app's: its subscription brings only the app's own calls, see
        # test_event_sources.py)
        for source in (
            f"channel:{victim}",
            f"bridge:{victim}",
            f"deviceState:Stasis:{registered_app.name}:x",
        ):
            refused_by_gateway(
                await intruder.client.post(path, params={"eventSource": source}), 403, "not-your-resource"
            )
        in_body = await intruder.client.post(path, json={"eventSource": [f"channel:{victim}"]})
        refused_by_gateway(in_body, 403, "not-your-resource")
        for client in nodes.values():  # no node ever took the subscription
            state = (await client.get(f"/applications/{intruder.name}")).json()
            assert victim not in state["channel_ids"] and not state["endpoint_ids"], state
    finally:
        await gw.delete(f"/channels/{victim}")


async def test_row7_subscriptions_die_with_the_app(
    registry: httpx.AsyncClient, gateway_url: str, nodes: dict[str, httpx.AsyncClient], app_name: str
) -> None:
    name = f"{app_name}-sub"
    created = await registry.post("/apps", json={"name": name, "extensions": []})
    assert created.status_code == 201, created.text
    auth = (name, created.json()["credentials"]["password"])
    async with httpx.AsyncClient(base_url=f"{gateway_url}/ari", auth=auth, timeout=20) as client:
        await until(lambda: accepts_app(client), message="gateway accepts the app")
        bridge = await _bridge(client)
        subscribed = await client.post(
            f"/applications/{name}/subscription", params={"eventSource": f"bridge:{bridge}"}
        )
        assert subscribed.status_code == 200, subscribed.text
    await registry.delete(f"/apps/{name}")

    async def forgotten() -> bool:
        for node in nodes.values():
            state = await node.get(f"/applications/{name}")
            if state.status_code == 200 and bridge in state.json()["bridge_ids"]:
                return False
        return True

    try:
        await until(forgotten, timeout=20, message="the deleted app's subscriptions are gone on every node")
    finally:
        for node in nodes.values():
            await node.delete(f"/bridges/{bridge}")


# -- row 8: user events with another app's resource as their source --------------------------------


async def test_row8_user_event_sources_must_be_the_apps_own(
    intruder: OtherApp, victim_and_own: tuple[str, str]
) -> None:
    victim, own = victim_and_own
    for source in (f"channel:{victim}", "endpoint:PJSIP/cluster", f"channel:{own},channel:{victim}"):
        answer = await intruder.client.post(
            "/events/user/x", params={"application": intruder.name, "source": source}
        )
        refused_by_gateway(answer, 403, "not-your-resource")
    mine = await intruder.client.post(
        "/events/user/x", params={"application": intruder.name, "source": f"channel:{own}"}
    )
    assert mine.status_code == 204, mine.text


# -- row 9: Stasis device states are namespaced per app ---------------------------------------------


async def test_row9_device_states_of_another_app_do_not_exist_for_it(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, intruder: OtherApp
) -> None:
    device = f"Stasis:{registered_app.name}:desk"
    assert (await gw.put(f"/deviceStates/{device}", params={"deviceState": "BUSY"})).status_code == 204
    try:
        refused_by_gateway(await intruder.client.get(f"/deviceStates/{device}"), 404, "resource-not-found")
        refused_by_gateway(await intruder.client.delete(f"/deviceStates/{device}"), 404, "resource-not-found")
        changed = await intruder.client.put(f"/deviceStates/{device}", params={"deviceState": "NOT_INUSE"})
        refused_by_gateway(changed, 403, "not-your-resource")
        outside = await intruder.client.put("/deviceStates/Stasis:desk", params={"deviceState": "BUSY"})
        refused_by_gateway(outside, 403, "not-your-resource")
        assert device not in {d["name"] for d in (await intruder.client.get("/deviceStates")).json()}
        assert (await gw.get(f"/deviceStates/{device}")).json()["state"] == "BUSY"
        assert device in {d["name"] for d in (await gw.get("/deviceStates")).json()}
    finally:
        await gw.delete(f"/deviceStates/{device}")


# -- row 10: an endpoint lists only the app's own channels ------------------------------------------


async def test_row10_endpoint_reads_list_only_the_apps_channels(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, intruder: OtherApp
) -> None:
    victim = await create_channel(gw, registered_app.name)
    try:
        by_tech = (await intruder.client.get("/endpoints/PJSIP")).json()
        one = (await intruder.client.get("/endpoints/PJSIP/cluster")).json()
        assert victim not in [c for e in by_tech for c in e["channel_ids"]]
        assert victim not in one["channel_ids"]
        # A sees its own channel, whichever node holds it (the endpoint's channels of every node).
        assert victim in [c for e in (await gw.get("/endpoints/PJSIP")).json() for c in e["channel_ids"]]
        assert victim in (await gw.get("/endpoints/PJSIP/cluster")).json()["channel_ids"]
    finally:
        await gw.delete(f"/channels/{victim}")


# -- row 12: a slow node answers 504 naming it, and its resource is kept ----------------------------


async def test_row12_a_slow_node_answers_504_and_keeps_the_resource(
    cluster: Cluster, gw: httpx.AsyncClient, registered_app: RegisteredApp
) -> None:
    # A second gateway that waits 1 s for a node, and a node frozen (SIGSTOP) for longer than that.
    url = start_extra_gateway(
        cluster, cluster.spec.port_base + 92, {"ARISCALE_NODE_TIMEOUT_SECONDS": "1"}, "gateway-slow"
    )
    channel = await create_channel(gw, registered_app.name)
    node = channel.split("-")[0]
    pid = cluster.procs.pid(f"asterisk-{node}")
    assert pid is not None
    try:
        async with httpx.AsyncClient(base_url=f"{url}/ari", auth=registered_app.auth, timeout=20) as slow:
            await until(lambda: accepts_app(slow), message="the second gateway accepts the app")
            os.kill(pid, signal.SIGSTOP)
            try:
                answer = await slow.get(f"/channels/{channel}")
            finally:
                os.kill(pid, signal.SIGCONT)
            refused_by_gateway(answer, 504, "node-timeout")
            assert node in answer.json()["message"]
            assert (await slow.get(f"/channels/{channel}")).status_code == 200
        assert (await gw.get(f"/channels/{channel}")).status_code == 200
    finally:
        stop_extra_gateway(cluster, "gateway-slow")
        await gw.delete(f"/channels/{channel}")


# -- row 11: one app's stuck websocket does not delay another app's events --------------------------


async def test_row11_a_stuck_consumer_is_cut_off_and_delays_nobody_else(
    cluster: Cluster,
    gateway_url: str,
    registered_app: RegisteredApp,
    intruder: OtherApp,
    registry: httpx.AsyncClient,
    nodes: dict[str, httpx.AsyncClient],
) -> None:
    # Both apps' events cross the target gateway's forwarding queue (see bench.stuck_consumer).
    # It never times a write out and lets 20 events wait per websocket: only that bound can cut
    # B off, and A's events held up behind B's write would never come.
    env = {
        "ARISCALE_GATEWAY_ID": TARGET_ID,
        "ARISCALE_EVENT_SEND_TIMEOUT_SECONDS": "3600",
        "ARISCALE_EVENT_QUEUE_SIZE": "20",
    }
    target = start_extra_gateway(cluster, cluster.spec.port_base + 93, env, "gateway-stuck")

    async def consumers(app: str) -> int:
        return int((await registry.get(f"/apps/{app}")).json().get("consumers") or 0)

    try:
        a, b = AppAuth(*registered_app.auth), AppAuth(intruder.name, intruder.password)
        node = next(iter(nodes.values()))
        measured = await stuck_beside(node, gateway_url, target, a, b, consumers)
    finally:
        stop_extra_gateway(cluster, "gateway-stuck")
    assert measured["A beside B stuck and flooded"]["n"] == PACED, measured  # none waited for B
    assert measured["B cut off"], measured
    assert measured["B's connection dropped"], measured  # not left waiting behind a full buffer


# -- row 15: logins cost the same for unknown apps; failures are rate-limited per client and app ----


async def test_row15_unknown_apps_cost_a_full_check_and_guessing_is_limited(
    gateway_url: str, registered_app: RegisteredApp, intruder: OtherApp
) -> None:
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=f"{gateway_url}/ari", timeout=20) as anonymous:

        async def seconds(user: str, password: str) -> float:
            started = loop.time()
            answer = await anonymous.get("/channels", auth=(user, password))
            assert answer.status_code == 401, answer.text
            return loop.time() - started

        known = sorted([await seconds(registered_app.name, f"wrong{i}") for i in range(5)])
        unknown = sorted([await seconds(f"nobody{i}x", "wrong") for i in range(5)])
        # Both run one scrypt check (~tens of ms); unknown names used to answer ~20 times faster.
        assert unknown[2] > known[2] / 4, (known, unknown)

        for i in range(10):
            await anonymous.get("/channels", auth=(registered_app.name, f"again{i}"))
        limited = await anonymous.get("/channels", auth=(registered_app.name, "more"))
        refused_by_gateway(limited, 429, "too-many-login-failures")
        other = await anonymous.get("/channels", auth=(intruder.name, intruder.password))
        assert other.status_code == 200, other.text  # another app from the same client is not slowed


# -- row 17: app names are lower case, distinct ignoring case, and not the internal ones ------------


async def test_row17_look_alike_app_names_are_refused(registry: httpx.AsyncClient) -> None:
    for name in ("CONF", "Conf", "ARISCALE-LINK", "-", "_", "-conf"):
        answer = await registry.post("/apps", json={"name": name})
        assert answer.status_code == 422, (name, answer.text)
    for name in ("ariscale-link", "ariscale-link-x"):
        refused_by_gateway(await registry.post("/apps", json={"name": name}), 409, "app-name-reserved")
