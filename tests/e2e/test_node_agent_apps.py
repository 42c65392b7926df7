"""An app registered (the registry mirrors it into Consul) is served by every node within 2 s; its calls'
events reach RabbitMQ; deleting it makes every node refuse its number and its events stop."""

import time
from functools import partial

from ariscale_cluster import Cluster
from ariscale_common.bus import app_binding, stasis_routing_key
from tests.support.answering import answering_from_bus
from tests.support.cluster_apps import FreshApp
from tests.support.node_agent import forgotten
from tests.support.sipp import place_calls
from tests.support.stasis_bus import BusTap
from tests.support.waiting import until


async def test_new_app_is_served_by_every_node_and_its_events_reach_the_bus(
    cluster: Cluster, fresh_app: FreshApp, sip_edge: str
) -> None:
    app_name, node_aris, ari_auth = fresh_app.name, fresh_app.node_aris, fresh_app.ari_auth
    with BusTap(cluster.spec.amqp_url, [app_binding(app_name)]).running() as tap:
        started = time.monotonic()
        await fresh_app.put()
        for node_id in node_aris:
            left = 2.0 - (time.monotonic() - started)
            await until(
                fresh_app.served_by(node_id),
                timeout=max(left, 0.0), interval=0.05, message=f"{app_name} served by {node_id} within 2 s",
            )  # fmt: skip

        async with answering_from_bus(tap, node_aris, ari_auth):
            result = await place_calls(sip_edge, fresh_app.extension, calls=4, rate=10, hold_ms=300)
            await until(lambda: len(tap.events("StasisEnd")) == 4, message="4 StasisEnd on the bus")

    assert result.successful == 4, result.output[-2000:]
    starts = tap.events("StasisStart")
    assert len(starts) == 4
    nodes = set()
    for start in starts:
        node_id = start.event["channel"]["id"].split("-")[0]  # systemname prefixes channel ids
        assert start.routing_key == stasis_routing_key(app_name, node_id, "StasisStart")
        assert start.event["channel"]["dialplan"]["exten"] == fresh_app.extension
        nodes.add(node_id)
    assert nodes == set(node_aris), "Kamailio spreads 4 calls over both nodes"
    # Body as Asterisk sent it; headers say where it came from.
    assert all(m.headers["app"] == app_name and m.event["application"] == app_name for m in tap.events())


async def test_deleted_app_is_refused_everywhere_and_its_events_stop(
    cluster: Cluster, fresh_app: FreshApp, sip_edge: str
) -> None:
    app_name, extension = fresh_app.name, fresh_app.extension
    node_aris, ari_auth = fresh_app.node_aris, fresh_app.ari_auth
    control = FreshApp(f"{app_name}c", f"{extension}1", fresh_app.apps, node_aris, ari_auth)
    control_app, control_extension = control.name, control.extension
    await fresh_app.put_and_wait_served()
    await control.put_and_wait_served()

    bindings = [app_binding(app_name), app_binding(control_app)]
    with BusTap(cluster.spec.amqp_url, bindings).running() as tap:
        await fresh_app.apps.delete(app_name)
        for node_id, ari_url in node_aris.items():
            await until(
                partial(forgotten, ari_url, ari_auth, app_name, extension),
                timeout=15, interval=0.05, message=f"{app_name} gone from {node_id}",
            )  # fmt: skip

        # Refused by every node: through the SIP edge (round robin) and at each node directly.
        targets = [sip_edge, *(node.sip_address for node in cluster.spec.nodes)]
        for target in targets:
            refused = await place_calls(target, extension, calls=2, scenario="uac_rejected.xml", timeout=20)
            assert refused.successful == 2, refused.output[-2000:]

        # The control app's calls still flow on every node: once its events are on the bus, any
        # event the deleted app could have caused before them would be there too.
        async with answering_from_bus(tap, node_aris, ari_auth):
            for node in cluster.spec.nodes:
                result = await place_calls(node.sip_address, control_extension, calls=1, hold_ms=100)
                assert result.successful == 1, result.output[-2000:]
            await until(lambda: len(tap.events("StasisEnd")) == len(node_aris), message="control StasisEnds")

    assert {e.node_id for e in tap.events("StasisStart")} == set(node_aris)
    assert {e.headers["app"] for e in tap.events()} == {control_app}
