"""deploy/compose.yaml describes the same cluster as the native path (it is not run by CI)."""

from pathlib import Path
from typing import Any

import yaml

from ariscale_cluster.services import cluster_services
from ariscale_cluster.spec import ClusterSpec

COMPOSE = Path(__file__).parents[3] / "deploy/compose.yaml"
SPEC = ClusterSpec(state_dir=Path("/var/lib/ariscale/state"))


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    services: dict[str, Any] = loaded["services"]
    return services


def test_every_native_component_has_a_container() -> None:
    expected = {"redis", "rabbitmq", "consul", "kamailio"} | {f"asterisk-{n.node_id}" for n in SPEC.nodes}
    expected |= {s.component for s in cluster_services(SPEC)}
    assert expected <= set(compose())


def test_node_agents_point_at_their_nodes_as_natively() -> None:
    services = compose()
    for node in SPEC.nodes:
        env = services[f"agent-{node.node_id}"]["environment"]
        assert env["ARISCALE_NODE_ID"] == node.node_id
        assert env["ARISCALE_ARI__URL"] == node.ari_url
        assert env["ARISCALE_SIP_ADDRESS"] == node.sip_address


def test_shared_addresses_match_the_native_ports() -> None:
    env = compose()["gateway"]["environment"]
    assert env["ARISCALE_CONSUL__URL"] == SPEC.consul_url
    assert env["ARISCALE_REGISTRY_URL"] == f"http://127.0.0.1:{SPEC.registry_port}"
    assert str(SPEC.consul_http_port) in compose()["consul"]["command"]


def test_prometheus_runs_beside_the_cluster_as_natively() -> None:
    services = compose()
    assert "prometheus" in services
    assert services["registry"]["environment"]["ARISCALE_PROMETHEUS_URL"] == SPEC.prometheus_url
