"""``POST /applications/{app}/subscription`` with an ``endpoint:`` source, on a cluster.

The cluster's one endpoint carries every app's calls on every node: the subscription is made on
every node, the app hears of its calls on each of them, and of no other app's.
"""

import json

import httpx

from tests.e2e.conftest import OtherApp, RegisteredApp
from tests.support.ari import AppEvents
from tests.support.callers import Callers, callers
from tests.support.waiting import until

ENDPOINT = "PJSIP/cluster"


async def test_an_endpoint_subscription_brings_the_apps_calls_from_every_node_and_no_other_apps(
    gw: httpx.AsyncClient,
    registered_app: RegisteredApp,
    app_events: AppEvents,
    app_callers: Callers,
    other_app: OtherApp,
    gateway_url: str,
    sip_edge: str,
    nodes: dict[str, httpx.AsyncClient],
) -> None:
    path = f"/applications/{registered_app.name}/subscription"
    subscribed = await gw.post(path, json={"eventSource": [f"endpoint:{ENDPOINT}"]})
    assert subscribed.status_code == 200, subscribed.text
    assert subscribed.json()["endpoint_ids"] == [ENDPOINT]
    for client in nodes.values():
        assert (await client.get(f"/applications/{registered_app.name}")).json()["endpoint_ids"] == [ENDPOINT]

    async with (
        AppEvents(gateway_url, other_app.auth).running() as b_events,
        callers(other_app.client, sip_edge, other_app.extension) as b_callers,
    ):
        theirs = {c["id"] for c in await b_callers.one_on_each_node()}
        mine = {c["id"] for c in await app_callers.one_on_each_node()}

        def created_mine() -> bool:
            """Asterisk tells an app of a call's creation only through such a subscription."""
            return mine <= {e["channel"]["id"] for e in app_events.of_type("ChannelCreated")}

        await until(created_mine, message="the app heard of its calls' creation on both nodes")
        assert app_events.of_type("EndpointStateChange"), "the endpoint's own changes reach the app"
        leaked = [e for e in app_events.events if any(c in json.dumps(e) for c in theirs)]
        assert leaked == [], leaked
        assert theirs <= {e["channel"]["id"] for e in b_events.of_type("StasisStart")}

    unsubscribed = await gw.delete(path, params={"eventSource": f"endpoint:{ENDPOINT}"})
    assert unsubscribed.status_code == 200, unsubscribed.text
    assert unsubscribed.json()["endpoint_ids"] == []
