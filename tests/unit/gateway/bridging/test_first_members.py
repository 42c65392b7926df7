from gateway.bridging.first_members import members_node


def test_a_bridge_holding_one_of_its_first_members_stays() -> None:
    assert members_node("n1", {"n1": 1, "n2": 3}) == "n1"


def test_a_bridge_goes_where_most_first_members_are() -> None:
    assert members_node("n1", {"n2": 1, "n3": 2}) == "n3"


def test_ties_go_to_the_lowest_node_id() -> None:
    assert members_node("n1", {"n3": 1, "n2": 1}) == "n2"


def test_no_member_no_move() -> None:
    assert members_node("n1", {}) == "n1"
