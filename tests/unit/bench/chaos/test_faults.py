"""Choosing faults by name."""

import pytest

from bench.chaos.faults import NAMES, select


def test_all_faults_by_default_in_their_order() -> None:
    assert [f.name for f in select("")] == list(NAMES)


def test_named_faults_keep_the_order_of_the_list() -> None:
    assert [f.name for f in select("redis, asterisk")] == ["asterisk", "redis"]


def test_an_unknown_fault_is_named() -> None:
    with pytest.raises(ValueError, match="unknown faults nope"):
        select("asterisk,nope")
