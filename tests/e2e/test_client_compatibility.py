"""Existing ARI client libraries get from the gateway what they get from one Asterisk (real calls).

Each library (PyPI's aioari and ari-client, npm's ari-client; installed by the test, see
:mod:`tests.support.compat`) runs one flow twice: through the gateway as a registered app, with
the call through the SIP edge, and straight against node n1 as an app of its own, with the call
sent to n1. Its REST answers and its events must be the same, once ids, times and names are
normalised.
"""

import json
import secrets
import uuid
from functools import partial

import httpx
import pytest

from ariscale_cluster import Cluster
from tests.e2e.conftest import RegisteredApp
from tests.support.ari import set_global
from tests.support.compat import CLIENT_NAMES, Client, comparable, installed_clients, run_flow
from tests.support.sipp import place_calls
from tests.support.waiting import until


@pytest.fixture(scope="module")
def clients() -> dict[str, Client]:
    """Installed when this module runs, not when tests are collected."""
    return installed_clients()


@pytest.mark.parametrize("name", CLIENT_NAMES)
async def test_a_client_library_sees_the_cluster_as_one_asterisk(
    name: str,
    clients: dict[str, Client],
    cluster: Cluster,
    gateway_url: str,
    sip_edge: str,
    registered_app: RegisteredApp,
    ari_auth: tuple[str, str],
    nodes: dict[str, httpx.AsyncClient],
) -> None:
    client = clients[name]
    node = cluster.spec.nodes[0]
    direct_app, direct_extension = f"d{uuid.uuid4().hex[:8]}", f"7{secrets.randbelow(10**6):06d}"
    await set_global(node.ari_url, ari_auth, f"APP_{direct_extension}", direct_app)
    try:
        direct = await run_flow(
            client, node.ari_url.removesuffix("/ari"), ari_auth, direct_app,
            partial(place_calls, node.sip_address, direct_extension, hold_ms=30000, timeout=60),
        )  # fmt: skip
    finally:
        await set_global(node.ari_url, ari_auth, f"APP_{direct_extension}", "")
    through = await run_flow(
        client, gateway_url, registered_app.auth, registered_app.name,
        partial(place_calls, sip_edge, registered_app.extension, hold_ms=30000, timeout=60),
    )  # fmt: skip

    expected = comparable(direct, {direct_app: "<app>", direct_extension: "<ext>"})
    seen = comparable(through, {registered_app.name: "<app>", registered_app.extension: "<ext>"})
    flow = {"StasisStart", "PlaybackFinished", "ChannelEnteredBridge", "ChannelVarset", "StasisEnd"}
    assert flow <= {json.loads(e)["type"] for e in expected["events"]}, "the flow ran through"
    assert expected["steps"]["list_bridges"][0]["channels"] == ["<channel>"]
    assert seen["steps"] == expected["steps"]
    assert seen["events"] == expected["events"]
    await until(lambda: _no_channels(nodes), message="no channel left on any node")


async def _no_channels(nodes: dict[str, httpx.AsyncClient]) -> bool:
    """Both runs hung up and destroyed what they made (other tests' apps may keep a bridge)."""
    for client in nodes.values():
        if (await client.get("/channels")).json():
            return False
    return True
