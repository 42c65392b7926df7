"""Three nodes: the home of a bridge dies; the bridge moves to a survivor under the same id and the
members on the third node are re-linked to the new home (one leg per remote node again)."""

import secrets
import uuid
from collections.abc import AsyncIterator
from functools import partial

import httpx
import pytest

from ariscale_cluster import Cluster
from tests.support.ari import AppEvents
from tests.support.bridges import home_of, legs_per_node, nodes_empty
from tests.support.callers import callers, node_of
from tests.support.gateway import accepts_app
from tests.support.node_agent import served
from tests.support.waiting import until


@pytest.fixture
async def app3(three_node_cluster: Cluster) -> AsyncIterator[tuple[str, str, str]]:
    """(name, password, extension) of an app registered on the 3-node cluster, served everywhere."""
    spec = three_node_cluster.spec
    name, extension = f"t{uuid.uuid4().hex[:8]}", f"9{secrets.randbelow(10**6):06d}"
    headers = {"Authorization": f"Bearer {spec.admin_token}"}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{spec.registry_port}", headers=headers
    ) as registry:
        created = await registry.post("/apps", json={"name": name, "extensions": [extension]})
        assert created.status_code == 201, created.text
        auth = (spec.ari_user, spec.ari_password)
        for node in spec.nodes:
            await until(
                partial(served, node.ari_url, auth, name, extension), message=f"served by {node.node_id}"
            )
        yield name, created.json()["credentials"]["password"], extension
        await registry.delete(f"/apps/{name}")


async def test_home_dies_and_members_on_two_survivors_are_linked_to_the_new_home(
    three_node_cluster: Cluster, app3: tuple[str, str, str]
) -> None:
    spec = three_node_cluster.spec
    name, password, extension = app3
    gateway = f"http://127.0.0.1:{spec.gateway_port}"
    ari_auth = (spec.ari_user, spec.ari_password)
    nodes = {n.node_id: httpx.AsyncClient(base_url=n.ari_url, auth=ari_auth, timeout=10) for n in spec.nodes}
    async with httpx.AsyncClient(base_url=f"{gateway}/ari", auth=(name, password), timeout=20) as gw:
        await until(lambda: accepts_app(gw), message="gateway accepts the app")
        async with (
            AppEvents(gateway, (name, password)).running(),
            callers(gw, f"127.0.0.1:{spec.sip_edge_port}", extension) as group,
        ):
            channels = await group.call(6, hold_ms=20_000)
            assert {node_of(c["id"]) for c in channels} == set(nodes), "the edge spreads calls over 3 nodes"
            bridge_id = f"conf-{uuid.uuid4().hex[:8]}"
            assert (await gw.post(f"/bridges/{bridge_id}", params={"type": "mixing"})).status_code == 200
            ids = ",".join(c["id"] for c in channels)
            assert (
                await gw.post(f"/bridges/{bridge_id}/addChannel", params={"channel": ids})
            ).status_code == 204
            home = await home_of(nodes, bridge_id)
            assert await legs_per_node(nodes) == {n: 2 if n == home else 1 for n in nodes}

            survivors = sorted(c["id"] for c in channels if node_of(c["id"]) != home)
            alive = {n: client for n, client in nodes.items() if n != home}
            try:
                three_node_cluster.procs.kill(f"asterisk-{home}")

                async def rehomed() -> bool:
                    # Meanwhile: 503 bridge-moving (never a 404: the bridge keeps living).
                    answer = await gw.get(f"/bridges/{bridge_id}")
                    assert answer.status_code in (200, 503), answer.text
                    return answer.status_code == 200 and sorted(answer.json()["channels"]) == survivors

                await until(rehomed, timeout=15, message=f"bridge {bridge_id} re-homed with {survivors}")
                new_home = await home_of(alive, bridge_id)
                await until(lambda: _legs_are(alive, dict.fromkeys(alive, 1)), timeout=10,
                            message=f"one leg between the survivors (new home {new_home})")  # fmt: skip
                assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204
                for channel_id in survivors:
                    await group.hang_up(channel_id)
                await until(lambda: nodes_empty(alive), message="the survivors are empty")
            finally:
                three_node_cluster.up()
    await until(lambda: nodes_empty(nodes), timeout=30, message="every node empty, the restored one too")
    for client in nodes.values():
        await client.aclose()


async def _legs_are(nodes: dict[str, httpx.AsyncClient], expected: dict[str, int]) -> bool:
    return await legs_per_node(nodes) == expected
