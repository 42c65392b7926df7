from collections import Counter

import pytest

from gateway.events.dispatch import NoLiveInstance, choose_instance
from gateway.events.instances import gateway_of


def test_round_robin_spreads_new_calls_evenly_in_id_order() -> None:
    live = ["g2/b", "g1/a", "g1/c"]
    picks = [choose_instance(live, turn) for turn in range(1, 10)]
    assert Counter(picks) == {"g1/a": 3, "g1/c": 3, "g2/b": 3}
    assert picks[:3] == ["g1/c", "g2/b", "g1/a"]  # sorted: g1/a, g1/c, g2/b; turn 1 is the second


def test_round_robin_over_one_instance_always_picks_it() -> None:
    assert {choose_instance(["g/a"], turn) for turn in range(5)} == {"g/a"}


def test_no_live_instance_is_an_error_the_worker_can_tell_apart() -> None:
    with pytest.raises(NoLiveInstance):
        choose_instance([], 1)


def test_an_instance_names_its_gateway() -> None:
    assert gateway_of("host:1234/9f3c") == "host:1234"
    assert gateway_of("gw/with/slash/9f3c") == "gw/with/slash"
