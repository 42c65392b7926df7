from ariscale_common.discovery import NodeMeta
from registry.consul_store import NodeEntry
from registry.metrics import node_metrics, node_state


def entry(node_id: str, health: str) -> NodeEntry:
    return NodeEntry(node_id, health, NodeMeta(ari_url="http://x/ari", sip_address="127.0.0.1:5060"))


def test_one_state_per_node_drained_first() -> None:
    assert node_state(entry("n1", "passing"), set()) == "healthy"
    assert node_state(entry("n1", "warning"), set()) == "critical"
    assert node_state(entry("n1", "critical"), {"n1"}) == "drained"


def test_every_state_is_exported_even_at_zero() -> None:
    nodes = [entry("n1", "passing"), entry("n2", "passing"), entry("n3", "critical")]
    got = {s.labels["state"]: s.value for s in node_metrics(nodes, {"n2"}).samples}
    assert got == {"healthy": 1, "critical": 1, "drained": 1}
