"""deploy/compose.yaml is generated from the spec and commands ``make up`` uses: one description."""

from typing import Any

import yaml

from ariscale_cluster import compose
from ariscale_cluster.services import cluster_services

SPEC = compose.COMPOSE_SPEC


def services() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(compose.COMPOSE_FILE.read_text())
    found: dict[str, Any] = loaded["services"]
    return found


def test_the_committed_file_is_what_make_compose_writes() -> None:
    assert compose.COMPOSE_FILE.read_text() == compose.render(SPEC), "run make compose"


def test_every_native_component_has_a_container() -> None:
    expected = {"consul", "kamailio"} | {f"asterisk-{n.node_id}" for n in SPEC.nodes}
    expected |= {s.component for s in cluster_services(SPEC)}
    assert set(services()) == expected  # Redis and RabbitMQ: the machine's own, as natively


def test_node_agents_point_at_their_nodes_as_natively() -> None:
    for node in SPEC.nodes:
        env = services()[f"agent-{node.node_id}"]["environment"]
        assert env["ARISCALE_NODE_ID"] == node.node_id
        assert env["ARISCALE_ARI__URL"] == node.ari_url
        assert env["ARISCALE_SIP_ADDRESS"] == node.sip_address


def test_every_container_shares_the_host_network_and_starts_after_the_one_before() -> None:
    found = services()
    names = list(found)
    assert all(s["network_mode"] == "host" for s in found.values())
    assert [s.get("depends_on") for s in found.values()] == [None] + [[n] for n in names[:-1]]


def test_services_get_their_settings_only_from_ariscale_variables() -> None:
    for service in cluster_services(SPEC):
        env = services()[service.component]["environment"]
        assert env == service.env and all(key.startswith("ARISCALE_") for key in env)
