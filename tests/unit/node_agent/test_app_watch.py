from ariscale_common.discovery import AppRecord
from node_agent.app_watch import usable_apps


def test_disabled_apps_are_left_out() -> None:
    records = [AppRecord(name="on", extensions=["1"]), AppRecord(name="off", extensions=["2"], enabled=False)]
    assert [a.name for a in usable_apps(records, "n1")] == ["on"]


def test_names_that_would_break_a_routing_key_are_refused() -> None:
    records = [AppRecord(name=name) for name in ("a.b", "a*", "a#", "", "ok_app-1", "x" * 65)]
    assert [a.name for a in usable_apps(records, "n1")] == ["ok_app-1"]


def test_undialable_extensions_are_dropped_not_the_app() -> None:
    records = [AppRecord(name="conf", extensions=["8000", "80 00", "*9#", "+331", "abc", "8001"])]
    assert usable_apps(records, "n1")[0].extensions == ["8000", "*9#", "+331", "8001"]
