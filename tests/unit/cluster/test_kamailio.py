from pathlib import Path

from ariscale_cluster import kamailio
from ariscale_cluster.spec import ClusterSpec

SPEC = ClusterSpec(state_dir=Path("/tmp/edge"), port_base=20000, node_count=2)


def test_dispatch_list_names_every_node_in_set_one() -> None:
    lines = kamailio.render_dispatcher_list(SPEC.nodes).splitlines()
    assert lines == ["1 sip:127.0.0.1:20011 0 0 node=n1", "1 sip:127.0.0.1:20021 0 0 node=n2"]


def test_config_listens_on_the_edge_port_and_uses_the_cluster_files() -> None:
    cfg = kamailio.render_config(SPEC)
    assert "listen=udp:127.0.0.1:20007" in cfg
    assert str(kamailio.dispatcher_list(SPEC)) in cfg
    assert f"unix:{kamailio.ctl_socket(SPEC)}" in cfg
    assert 'ds_select_dst("1", "4")' in cfg
    assert "record_route()" in cfg and "loose_route()" in cfg
