"""A subscription made on several nodes answers as one Asterisk."""

from gateway.routing.event_sources import cluster_answer
from gateway.routing.messages import AriAnswer

NOT_SUBSCRIBED = AriAnswer.json(422, {"message": "Event source not found"})


def state(*devices: str) -> AriAnswer:
    return AriAnswer.json(200, {"name": "a", "device_names": list(devices), "channel_ids": []})


def test_the_nodes_states_merge() -> None:
    merged = cluster_answer([state("Stasis:a:x"), state("Stasis:a:x", "Stasis:a:y")], [False, False])
    assert (merged.status, merged.decoded()["device_names"]) == (200, ["Stasis:a:x", "Stasis:a:y"])


def test_a_node_without_the_subscription_does_not_refuse_for_the_cluster() -> None:
    assert cluster_answer([state(), NOT_SUBSCRIBED], [False, False]).status == 200
    assert cluster_answer([NOT_SUBSCRIBED, NOT_SUBSCRIBED], [False, False]).status == 422


def test_the_node_holding_a_channel_or_bridge_source_refuses_for_the_cluster() -> None:
    assert cluster_answer([state(), NOT_SUBSCRIBED], [False, True]).status == 422
    assert cluster_answer([], []).status == 400
