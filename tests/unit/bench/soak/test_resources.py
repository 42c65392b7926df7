"""Memory and descriptors of process trees, and their growth."""

import os

from bench.load.cpu import descendants
from bench.soak.resources import growth, usage


def test_descendants_of_a_root() -> None:
    parents = {1: 0, 10: 1, 11: 10, 12: 10, 20: 1, 30: 99}
    assert descendants([10], parents) == {10, 11, 12}
    assert descendants([404], parents) == set()


def test_this_process_has_memory_and_descriptors() -> None:
    mine = usage({"me": [os.getpid()]})["me"]
    assert mine["rss_kb"] > 0 and mine["fds"] >= 3 and mine["processes"] >= 1


def test_growth_in_kib_percent_and_fds() -> None:
    start = {
        "gateway": {"rss_kb": 1000, "fds": 40, "processes": 3},
        "gone": {"rss_kb": 5, "fds": 1, "processes": 1},
    }
    end = {"gateway": {"rss_kb": 1100, "fds": 38, "processes": 3}}
    assert growth(start, end) == {"gateway": {"rss_kb": 100, "rss_pct": 10.0, "fds": -2}}
