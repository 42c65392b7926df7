"""A Stasis device's change, reported by every node, is heard from one node only."""

from gateway.events.device_changes import heard_once
from gateway.nodes import Node


def change(device: str) -> dict[str, object]:
    return {"type": "DeviceStateChanged", "device_state": {"name": device, "state": "BUSY"}}


def nodes(*ids: str) -> list[Node]:
    return [
        Node(node_id=i, ari_url=f"http://{i}/ari", sip_address="", healthy=True, drained=False) for i in ids
    ]


def test_a_stasis_device_change_is_heard_from_the_first_healthy_node_only() -> None:
    healthy = nodes("n2", "n1")
    assert heard_once(change("Stasis:a:desk"), "n1", healthy)
    assert not heard_once(change("Stasis:a:desk"), "n2", healthy)
    assert heard_once(change("Stasis:a:desk"), "n2", nodes("n2", "n3")), "n1 died: n2 takes over"


def test_each_nodes_own_devices_and_other_events_are_heard_from_every_node() -> None:
    healthy = nodes("n1", "n2")
    assert heard_once(change("PJSIP/cluster"), "n2", healthy)
    assert heard_once({"type": "StasisStart"}, "n2", healthy)
    assert heard_once(change("Stasis:a:desk"), None, healthy)
