from pathlib import Path

import pytest

from ariscale_cluster import services
from ariscale_cluster.spec import ClusterSpec


def all_ports(spec: ClusterSpec) -> list[int]:
    fixed = [
        spec.registry_port, spec.gateway_port, spec.conf_app_port, spec.consul_http_port,
        spec.consul_serf_lan_port, spec.consul_serf_wan_port, spec.consul_server_port,
        spec.sip_edge_port, spec.own_redis_port, spec.own_amqp_port, spec.prometheus_port,
    ]  # fmt: skip
    per_node = [p for n in spec.nodes for p in (n.ari_port, n.sip_port, n.agent_port)]
    rtp = [p for n in spec.nodes for p in range(n.rtp_start, n.rtp_end + 1)]
    return fixed + per_node + rtp


@pytest.mark.parametrize("nodes", [1, 2, 3, 8])
def test_no_port_is_used_twice(nodes: int) -> None:
    ports = all_ports(ClusterSpec(state_dir=Path("/tmp/x"), node_count=nodes))
    assert len(ports) == len(set(ports))


def test_make_up_and_tests_clusters_do_not_overlap() -> None:
    up = set(all_ports(ClusterSpec(state_dir=Path("/a"), port_base=20000, node_count=8)))
    tests = set(all_ports(ClusterSpec(state_dir=Path("/b"), port_base=23000, node_count=8)))
    assert not up & tests


def test_node_ids_and_addresses() -> None:
    spec = ClusterSpec(state_dir=Path("/tmp/x"), port_base=20000, node_count=2)
    assert [n.node_id for n in spec.nodes] == ["n1", "n2"]
    assert spec.nodes[1].ari_url == "http://127.0.0.1:20020/ari"
    assert spec.nodes[1].sip_address == "127.0.0.1:20021"


def test_two_state_dirs_get_two_keys() -> None:
    assert ClusterSpec(state_dir=Path("/a")).key != ClusterSpec(state_dir=Path("/b")).key


@pytest.mark.parametrize("nodes", [0, 9])
def test_node_count_is_bounded(nodes: int) -> None:
    with pytest.raises(ValueError, match="node_count"):
        ClusterSpec(state_dir=Path("/tmp/x"), node_count=nodes)


def test_amqp_url_escapes_the_vhost() -> None:
    spec = ClusterSpec(state_dir=Path("/x"), amqp_vhost="/")
    assert spec.amqp_url.endswith("/%2F")


@pytest.mark.parametrize("gateways", [0, 9])
def test_gateway_count_is_bounded(gateways: int) -> None:
    with pytest.raises(ValueError, match="gateways"):
        ClusterSpec(state_dir=Path("/tmp/x"), gateways=gateways)


def test_several_gateways_share_one_port_as_uvicorn_workers() -> None:
    spec = ClusterSpec(state_dir=Path("/tmp/x"), gateways=2)
    gateway = next(s for s in services.cluster_services(spec) if s.component == "gateway")
    argv = services.uvicorn_argv(gateway)
    assert argv[argv.index("--port") + 1] == str(spec.gateway_port)
    assert argv[argv.index("--workers") + 1] == "2"
    single = next(
        s
        for s in services.cluster_services(ClusterSpec(state_dir=Path("/tmp/x")))
        if s.component == "gateway"
    )
    assert "--workers" not in services.uvicorn_argv(single)
