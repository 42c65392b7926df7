"""The Kamailio dispatcher list file: one line per node, sorted, and read back the same."""

from pathlib import Path

from ariscale_cluster import ClusterSpec, kamailio
from ariscale_common.sip_edge import DispatchTarget, parse_dispatcher_list, render_dispatcher_list


def test_one_line_per_node_in_node_order() -> None:
    n1, n2 = DispatchTarget("n1", "10.0.0.1:5060"), DispatchTarget("n2", "10.0.0.2:5060")
    text = render_dispatcher_list([n2, n1])
    assert text == "1 sip:10.0.0.1:5060 0 0 node=n1\n1 sip:10.0.0.2:5060 0 0 node=n2\n"


def test_no_nodes_is_an_empty_file() -> None:
    assert render_dispatcher_list([]) == ""


def test_duplicates_collapse() -> None:
    target = DispatchTarget("n1", "10.0.0.1:5060")
    assert render_dispatcher_list([target, target]).count("\n") == 1


def test_round_trip() -> None:
    targets = [DispatchTarget("n1", "127.0.0.1:20011"), DispatchTarget("n2", "127.0.0.1:20021")]
    assert parse_dispatcher_list(render_dispatcher_list(targets)) == targets


def test_parse_skips_comments_and_other_sets() -> None:
    text = "# comment\n\n2 sip:10.0.0.9:5060 0 0 node=x\n1 sip:10.0.0.1:5060 0 0 node=n1\n"
    assert parse_dispatcher_list(text) == [DispatchTarget("n1", "10.0.0.1:5060")]


def test_the_cluster_launcher_writes_the_same_format() -> None:
    spec = ClusterSpec(state_dir=Path("/nonexistent"), port_base=20000, node_count=2)
    expected = [DispatchTarget(n.node_id, n.sip_address) for n in spec.nodes]
    assert kamailio.render_dispatcher_list(spec.nodes) == render_dispatcher_list(expected)
