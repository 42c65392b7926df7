from dataclasses import replace

from gateway.bridging.legs import Link
from gateway.failover.detector import dead_nodes, restarted_nodes, split_links
from gateway.failover.rehoming import choose_home
from gateway.nodes import Node


def node(node_id: str, healthy: bool = True) -> Node:
    return Node(node_id, f"http://{node_id}/ari", f"{node_id}:5060", healthy=healthy, drained=False)


def test_a_node_whose_asterisk_reports_another_start_time_restarted() -> None:
    started = replace(node("n1"), started="2026-11-29T15:00:00.000+0000")
    again = replace(started, started="2026-11-29T15:20:00.000+0000")
    assert restarted_nodes({"n1": started}, {"n1": again}) == [again]
    assert restarted_nodes({"n1": started}, {"n1": started}) == []
    # Not known before, or its agent does not say: nothing to compare.
    assert restarted_nodes({}, {"n1": again}) == []
    assert restarted_nodes({"n1": node("n1")}, {"n1": again}) == []
    assert restarted_nodes({"n1": started}, {"n1": node("n1")}) == []
    # A dead node is the failover's business, not a restart.
    assert restarted_nodes({"n1": started}, {"n1": replace(again, healthy=False)}) == []


def link(bridge_id: str, home: str, remote: str) -> Link:
    return Link(bridge_id, home, remote, f"ariscale-leg-{bridge_id}-{remote}", f"{remote}-1.{bridge_id}")


def test_critical_and_vanished_nodes_are_dead_healthy_and_drained_ones_are_not() -> None:
    known = {"n1": node("n1"), "n2": node("n2"), "n3": node("n3")}
    drained = Node("n1", "http://n1/ari", "n1:5060", healthy=True, drained=True)
    current = {"n1": drained, "n2": node("n2", healthy=False)}
    assert [n.node_id for n in dead_nodes(known, current)] == ["n2", "n3"]


def test_a_node_critical_from_the_start_is_dead_too() -> None:
    assert [n.node_id for n in dead_nodes({}, {"n4": node("n4", healthy=False)})] == ["n4"]


def test_links_split_into_bridges_to_rehome_and_legs_to_hang_up() -> None:
    links = [link("a", "n1", "n2"), link("a", "n1", "n3"), link("b", "n2", "n1"), link("c", "n2", "n3")]
    homed, carrying = split_links(links, "n1")
    assert homed == {"a": [links[0], links[1]]}
    assert carrying == [links[2]]


def test_the_new_home_is_the_survivor_with_most_members_ties_to_the_lowest_id() -> None:
    assert choose_home({"n2": 1, "n3": 3}) == "n3"
    assert choose_home({"n3": 2, "n2": 2}) == "n2"
    assert choose_home({"n2": 0}) is None
    assert choose_home({}) is None
