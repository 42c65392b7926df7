from typing import Any

from registry.conferences import calls_per_app, conferences
from registry.node_ari import NodeContents


def caller(channel_id: str, number: str, app: str = "conf") -> dict[str, Any]:
    return {
        "id": channel_id,
        "caller": {"number": number},
        "dialplan": {"context": "ariscale-inbound", "exten": "8000", "app_name": "Stasis", "app_data": app},
    }


def test_a_bridge_spanning_two_nodes_with_one_link_leg() -> None:
    home_leg = {"id": "ariscale-leg-abc", "protocol_id": "call-1", "dialplan": {"exten": "s"}}
    remote_leg = {
        "id": "n2-9.1",
        "protocol_id": "call-1",
        "dialplan": {"exten": "link-conf", "app_name": "Stasis", "app_data": "ariscale-link,conf"},
    }
    contents = {
        "n1": NodeContents(
            channels=[caller("n1-1.1", "101"), home_leg],
            bridges=[{"id": "conf", "channels": ["n1-1.1", "ariscale-leg-abc"]}],
        ),
        "n2": NodeContents(
            channels=[caller("n2-5.1", "201"), caller("n2-5.2", "202"), remote_leg],
            bridges=[{"id": "ariscale-link-conf", "channels": ["n2-5.1", "n2-9.1", "n2-5.2"]}],
        ),
    }

    [conf] = conferences(contents)

    assert (conf.id, conf.app, conf.home, conf.nodes) == ("conf", "conf", "n1", ["n1", "n2"])
    assert [(m.channel_id, m.node, m.caller) for m in conf.members] == [
        ("n1-1.1", "n1", "101"), ("n2-5.1", "n2", "201"), ("n2-5.2", "n2", "202"),
    ]  # fmt: skip
    assert [(leg.node, leg.home_leg, leg.remote_leg) for leg in conf.link_legs] == [
        ("n2", "ariscale-leg-abc", "n2-9.1")
    ]
    assert calls_per_app(contents) == {"conf": 3}


def test_a_bridge_on_one_node_has_no_link_leg_and_an_empty_cluster_no_conference() -> None:
    contents = {
        "n1": NodeContents(channels=[caller("n1-1.1", "101")], bridges=[{"id": "b", "channels": ["n1-1.1"]}])
    }
    [bridge] = conferences(contents)
    assert bridge.nodes == ["n1"] and bridge.link_legs == []
    assert conferences({"n1": NodeContents(channels=[], bridges=[])}) == []
