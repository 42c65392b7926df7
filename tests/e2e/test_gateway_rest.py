"""ARI REST through the gateway: placement, errors, isolation, two gateways, Redis loss."""

import asyncio
import json
import time
import uuid

import httpx
import redis.asyncio as aioredis

from ariscale_cluster import Cluster
from ariscale_cluster.extra_gateway import start_extra_gateway, stop_extra_gateway
from ariscale_common.keyspace import Keyspace
from tests.e2e.conftest import BLACK_HOLE, RegisteredApp
from tests.support.gateway import accepts_app, answers_get, second_gateway, sees_nodes
from tests.support.ownership import recorded_channels
from tests.support.waiting import until


async def node_channel_counts(node_aris: dict[str, str], auth: tuple[str, str]) -> dict[str, int]:
    async with httpx.AsyncClient(auth=auth, timeout=5) as client:
        return {n: len((await client.get(f"{url}/channels")).json()) for n, url in node_aris.items()}


async def _quiet(node_aris: dict[str, str], auth: tuple[str, str]) -> bool:
    return set((await node_channel_counts(node_aris, auth)).values()) == {0}


async def create_channel(gw: httpx.AsyncClient, app: str) -> str:
    response = await gw.post("/channels/create", params={"endpoint": BLACK_HOLE, "app": app})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def test_new_channels_go_to_the_least_loaded_node(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, node_aris: dict[str, str], ari_auth: tuple[str, str]
) -> None:
    # Start from quiet nodes: a channel of the previous test still going away would make the
    # counts below stale by the time the gateway counts.
    await until(lambda: _quiet(node_aris, ari_auth), message="no channel left from earlier tests")
    created = []
    # Placement counts the channels the cluster owns (Redis), which may still hold a channel of an
    # earlier test on its way out: new channels still spread over both nodes.
    for _ in range(4):
        created.append(await create_channel(gw, registered_app.name))
    assert {c.split("-")[0] for c in created} == {"n1", "n2"}
    listed = {c["id"] for c in (await gw.get("/channels")).json()}
    assert listed == set(created)
    for channel_id in created:
        assert (await gw.delete(f"/channels/{channel_id}")).status_code == 204
    await until(lambda: _no_channels(gw), message="channels gone")


async def test_a_channel_whose_id_names_another_node_is_read_where_it_lives(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, registry: httpx.AsyncClient, gateway_url: str,
    node_aris: dict[str, str], ari_auth: tuple[str, str],
) -> None:  # fmt: skip
    """Asterisk's channel ids start with their node's name, but an id of the app's own choosing may
    name another node: requests go where the channel lives, never where its id points."""
    assert (await registry.post("/nodes/n2/drain")).status_code == 200  # new channels go to n1
    try:
        await until(lambda: sees_nodes(gateway_url, {"n2": "drained"}), message="the gateway sees n2 drained")
        channel_id = f"n2-{uuid.uuid4().hex[:12]}"
        params = {"endpoint": BLACK_HOLE, "app": registered_app.name, "channelId": channel_id}
        assert (await gw.post("/channels/create", params=params)).status_code == 200
        async with httpx.AsyncClient(auth=ari_auth, timeout=5) as node:
            assert (await node.get(f"{node_aris['n1']}/channels/{channel_id}")).status_code == 200
        got = await gw.get(f"/channels/{channel_id}")
        assert got.status_code == 200 and got.json()["id"] == channel_id, got.text
        variable = await gw.get(f"/channels/{channel_id}/variable", params={"variable": "CHANNEL(name)"})
        assert variable.status_code == 200, variable.text
        assert (await gw.delete(f"/channels/{channel_id}")).status_code == 204
        await until(lambda: answers_get(gw, f"/channels/{channel_id}", 404), message="the channel gone")
    finally:
        assert (await registry.delete("/nodes/n2/drain")).status_code == 200
    await until(lambda: sees_nodes(gateway_url, {"n2": "up"}), message="the gateway sees n2 up again")


async def _no_channels(gw: httpx.AsyncClient) -> bool:
    return bool((await gw.get("/channels")).json() == [])


async def test_originate_answers_with_the_channel_on_a_node(
    gw: httpx.AsyncClient, registered_app: RegisteredApp
) -> None:
    response = await gw.post("/channels", params={"endpoint": BLACK_HOLE, "app": registered_app.name})
    assert response.status_code == 200, response.text
    channel_id = response.json()["id"]
    assert channel_id.split("-")[0] in {"n1", "n2"}
    assert (await gw.delete(f"/channels/{channel_id}")).status_code in (204, 404)
    await until(lambda: _no_channels(gw), message="the originated channel is gone")


async def test_errors_are_ari_shaped_json(
    gateway_url: str, gw: httpx.AsyncClient, registered_app: RegisteredApp
) -> None:
    async with httpx.AsyncClient(base_url=f"{gateway_url}/ari") as anonymous:
        missing = await anonymous.get("/channels")
        wrong = await anonymous.get("/channels", auth=(registered_app.name, "wrong"))
        unknown = await anonymous.get("/channels", auth=("no-such-app", "x"))
        by_key = await anonymous.get(
            "/channels", params={"api_key": f"{registered_app.name}:{registered_app.password}"}
        )
    assert (missing.status_code, wrong.status_code, unknown.status_code) == (401, 401, 401)
    assert "message" in missing.json()
    assert by_key.status_code == 200

    not_found = await gw.get("/channels/n1-0000000000.0")
    assert not_found.status_code == 404 and not_found.json()["message"] == "Channel not found"
    foreign = await gw.post("/channels", params={"endpoint": BLACK_HOLE, "app": "someone-else"})
    assert foreign.status_code == 403 and "someone-else" in foreign.json()["message"]
    no_endpoint = await gw.post("/channels", params={"app": registered_app.name})
    assert no_endpoint.status_code == 400, no_endpoint.text  # Asterisk's own answer, passed through
    admin = await gw.post("/asterisk/variable", params={"variable": "APP_1", "value": "x"})
    assert admin.status_code == 403


async def test_an_app_cannot_see_or_touch_another_apps_resources(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, registry: httpx.AsyncClient, gateway_url: str
) -> None:
    channel_id = await create_channel(gw, registered_app.name)
    bridge = await gw.post("/bridges", params={"type": "mixing"})
    assert bridge.status_code == 200
    bridge_id = bridge.json()["id"]

    other = await registry.post("/apps", json={"name": f"{registered_app.name}-b", "extensions": []})
    assert other.status_code == 201, other.text
    creds = (other.json()["name"], other.json()["credentials"]["password"])
    try:
        async with httpx.AsyncClient(base_url=f"{gateway_url}/ari", auth=creds, timeout=10) as intruder:
            await until(lambda: accepts_app(intruder), message="gateway accepts the second app")
            assert channel_id not in {c["id"] for c in (await intruder.get("/channels")).json()}
            assert bridge_id not in {b["id"] for b in (await intruder.get("/bridges")).json()}
            assert (await intruder.get(f"/channels/{channel_id}")).status_code == 404
            endpoints = (await intruder.get("/endpoints")).json()
            assert endpoints and channel_id not in [c for e in endpoints for c in e["channel_ids"]]
            assert (await intruder.delete(f"/channels/{channel_id}")).status_code == 404
            assert (await intruder.post(f"/channels/{channel_id}/answer")).status_code == 404
            assert (await intruder.get(f"/bridges/{bridge_id}")).status_code == 404
            assert (
                await intruder.post(f"/bridges/{bridge_id}", params={"type": "mixing"})
            ).status_code == 409
            assert (await intruder.get(f"/applications/{registered_app.name}")).status_code == 404
    finally:
        await registry.delete(f"/apps/{creds[0]}")
    assert (await gw.get(f"/channels/{channel_id}")).status_code == 200
    assert channel_id in [c for e in (await gw.get("/endpoints")).json() for c in e["channel_ids"]]
    assert (await gw.delete(f"/channels/{channel_id}")).status_code == 204
    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204


async def test_two_gateways_create_one_bridge_for_one_id(
    cluster: Cluster,
    gw: httpx.AsyncClient,
    registered_app: RegisteredApp,
    node_aris: dict[str, str],
    ari_auth: tuple[str, str],
) -> None:
    async with second_gateway(cluster, cluster.spec.port_base + 90, registered_app.auth, timeout=10) as gw2:
        for round_ in range(10):
            bridge_id = f"{registered_app.name}-conf-{round_}"
            answers = await asyncio.gather(
                *(g.post(f"/bridges/{bridge_id}", params={"type": "mixing"}) for g in (gw, gw2, gw, gw2))
            )
            # As on one Asterisk: the first creation wins, the others hear 409 (already exists).
            statuses = sorted(a.status_code for a in answers)
            assert statuses[0] == 200 and set(statuses) <= {200, 409}, [a.text for a in answers]
            holders = await nodes_holding_bridge(node_aris, ari_auth, bridge_id)
            assert len(holders) == 1, (bridge_id, holders)
            # either gateway reaches it, wherever it was created
            assert (await gw2.get(f"/bridges/{bridge_id}")).status_code == 200
            assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204


async def nodes_holding_bridge(node_aris: dict[str, str], auth: tuple[str, str], bridge_id: str) -> list[str]:
    async with httpx.AsyncClient(auth=auth, timeout=5) as client:
        return [
            node
            for node, url in node_aris.items()
            if (await client.get(f"{url}/bridges/{bridge_id}")).status_code == 200
        ]


async def test_operations_survive_a_redis_flush(
    cluster: Cluster, gw: httpx.AsyncClient, registered_app: RegisteredApp
) -> None:
    channels = [await create_channel(gw, registered_app.name) for _ in range(2)]
    bridge_id = (await gw.post("/bridges", params={"type": "mixing"})).json()["id"]

    client = aioredis.Redis.from_url(cluster.spec.redis_url)
    async with client:
        keys = [k async for k in client.scan_iter(match=f"{cluster.spec.redis_key_prefix}*")]
        assert keys, "the gateway should have recorded ownership"
        await client.delete(*keys)

    for channel_id in channels:
        assert (await gw.get(f"/channels/{channel_id}")).status_code == 200
        assert (
            await gw.post(f"/channels/{channel_id}/variable", params={"variable": "X", "value": "1"})
        ).status_code == 204
    assert (await gw.get(f"/bridges/{bridge_id}")).status_code == 200
    assert {c["id"] for c in (await gw.get("/channels")).json()} == set(channels)
    for channel_id in channels:
        assert (await gw.delete(f"/channels/{channel_id}")).status_code == 204
    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204


async def test_swagger_documents_point_clients_at_the_gateway(
    gateway_url: str, registered_app: RegisteredApp
) -> None:
    """Swagger-driven ARI clients load these, then talk to ``basePath``: it must be the gateway."""
    async with httpx.AsyncClient(base_url=gateway_url) as anonymous:
        assert (await anonymous.get("/ari/api-docs/resources.json")).status_code == 401, "as on a node"
    async with httpx.AsyncClient(base_url=gateway_url, auth=registered_app.auth) as client:
        await until(lambda: accepts_app(client, "/ari/api-docs/resources.json"), message="the app is known")
        index = (await client.get("/ari/api-docs/resources.json")).json()
        assert index["basePath"] == f"{gateway_url}/ari"
        operations = 0
        for api in index["apis"]:
            document = (await client.get("/ari" + api["path"].replace("{format}", "json"))).json()
            assert document["basePath"] == f"{gateway_url}/ari"
            operations += sum(len(a["operations"]) for a in document.get("apis", []))
        openapi = (await client.get("/openapi.json")).json()
    assert operations > 100
    served = {(m.upper(), p) for p, ops in openapi["paths"].items() for m in ops if p.startswith("/ari/")}
    assert len(served) >= operations - 1  # every operation but the websocket, which OpenAPI cannot show


async def test_small_answers_are_a_nodes(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, node_aris: dict[str, str], ari_auth: tuple[str, str]
) -> None:
    created = await gw.post("/channels/create", params={"endpoint": BLACK_HOLE, "app": registered_app.name})
    channel_id = created.json()["id"]
    bridge_id = f"small-{uuid.uuid4().hex[:8]}"
    assert (await gw.post(f"/bridges/{bridge_id}")).status_code == 200
    added = await gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": channel_id})
    assert added.status_code == 204
    assert "content-type" not in added.headers, "a 204 has no content, so no content type"
    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204
    assert (await gw.delete(f"/channels/{channel_id}")).status_code == 204
    async with httpx.AsyncClient(auth=ari_auth) as node:
        direct = await node.get(f"{node_aris['n1']}/mailboxes")
    through = await gw.get("/mailboxes")
    assert (through.status_code, through.json()) == (direct.status_code, direct.json())


async def test_channels_whose_end_never_came_are_forgotten_by_the_audit(
    cluster: Cluster, gw: httpx.AsyncClient, registered_app: RegisteredApp
) -> None:
    """An entry whose ChannelDestroyed never came (here: planted) stops counting for placement once
    a gateway's audit finds its node no longer has the channel; live channels keep theirs."""
    live = await create_channel(gw, registered_app.name)
    node = live.split("-")[0]
    keys = Keyspace(cluster.spec.redis_key_prefix)
    ghost = f"{node}-0.{uuid.uuid4().hex[:6]}"
    async with aioredis.Redis.from_url(cluster.spec.redis_url) as client:
        await client.set(keys.owner("channel", ghost), json.dumps({"node": node, "app": registered_app.name}))
        await client.zadd(keys.node_channels(node), {ghost: time.time() - 3600})
    assert ghost in await recorded_channels(cluster)

    start_extra_gateway(
        cluster, cluster.spec.port_base + 92, {"ARISCALE_OWNERSHIP_AUDIT_SECONDS": "0.5"}, "gateway-audit"
    )
    try:
        await until(
            lambda: _forgotten(cluster, ghost), message="the audit forgets the ghost channel", timeout=30
        )
        assert live in await recorded_channels(cluster), "a channel the node has stays recorded"
    finally:
        stop_extra_gateway(cluster, "gateway-audit")
    assert (await gw.delete(f"/channels/{live}")).status_code == 204


async def _forgotten(cluster: Cluster, channel_id: str) -> bool:
    return channel_id not in await recorded_channels(cluster)
