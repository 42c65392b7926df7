from gateway.events.shares import Handover, RecentNodes, share_of

NODES = [f"n{i}" for i in range(40)]
GATEWAYS = ["a:1.0f0f0f", "b:2.1e1e1e", "c:3.2d2d2d"]


def shares(gateways: list[str]) -> dict[str, set[str]]:
    return {g: share_of(g, gateways, NODES) for g in gateways}


def test_every_node_goes_to_exactly_one_live_gateway() -> None:
    split = shares(GATEWAYS)
    assert sorted(n for share in split.values() for n in share) == sorted(NODES)
    assert all(split.values()), f"a gateway got nothing of 40 nodes: {split}"


def test_a_gateway_that_leaves_moves_only_its_own_nodes() -> None:
    before, after = shares(GATEWAYS), shares(GATEWAYS[:2])
    for gateway in GATEWAYS[:2]:
        assert before[gateway] <= after[gateway]
    assert after[GATEWAYS[0]] | after[GATEWAYS[1]] == set(NODES)


def test_a_gateway_not_listed_yet_counts_itself() -> None:
    alone = share_of("d:4.3c3c3c", [], NODES)
    assert alone == set(NODES)


def test_a_node_that_left_consul_stays_known_for_a_while() -> None:
    recent = RecentNodes(linger=600)
    assert recent.update(["n1", "n2"], now=0) == {"n1", "n2"}
    assert recent.update(["n1"], now=599) == {"n1", "n2"}
    assert recent.update(["n1"], now=600) == {"n1"}
    assert recent.update(["n1", "n2"], now=601) == {"n1", "n2"}  # back again


def test_a_node_leaving_the_share_is_consumed_until_its_new_holder_has_subscribed() -> None:
    handover = Handover(grace=3)
    assert handover.consumed({"n1", "n2"}, now=0) == {"n1", "n2"}
    assert handover.consumed({"n2"}, now=1) == {"n1", "n2"}  # another gateway came: n1 goes to it
    assert handover.consumed({"n2"}, now=3.9) == {"n1", "n2"}
    assert handover.consumed({"n2"}, now=4.1) == {"n2"}  # let go: the new holder takes over


def test_a_node_back_in_the_share_during_its_handover_is_never_let_go() -> None:
    handover = Handover(grace=3)
    handover.consumed({"n1"}, now=0)
    assert handover.consumed(set(), now=1) == {"n1"}  # a gateway started…
    assert handover.consumed({"n1"}, now=2) == {"n1"}  # … and stopped at once
    assert handover.consumed(set(), now=2.5) == {"n1"}  # lost again later: a fresh grace
    assert handover.consumed(set(), now=5.4) == {"n1"}
    assert handover.consumed(set(), now=5.6) == set()
