from ariscale_common.discovery import AppRecord
from node_agent.dialplan_sync import all_routed, routes


def test_only_apps_with_a_live_websocket_are_routed() -> None:
    apps = [AppRecord(name="conf", extensions=["8000", "8001"]), AppRecord(name="ivr", extensions=["9000"])]
    assert routes(apps, {"conf"}) == {"8000": "conf", "8001": "conf"}
    assert routes(apps, {"conf", "ivr"}) == {"8000": "conf", "8001": "conf", "9000": "ivr"}
    assert routes(apps, set()) == {}


def test_an_extension_claimed_twice_goes_to_the_first_app_by_name() -> None:
    apps = [AppRecord(name="zeta", extensions=["8000"]), AppRecord(name="alpha", extensions=["8000"])]
    assert routes(apps, {"zeta", "alpha"}) == {"8000": "alpha"}


def test_a_node_is_routed_once_every_app_has_its_websocket() -> None:
    apps = [AppRecord(name="conf", extensions=["8000"]), AppRecord(name="ivr", extensions=["9000"])]
    assert not all_routed(apps, {"conf"})
    assert all_routed(apps, {"conf", "ivr"})
    assert all_routed([], set())  # no app: nothing to wait for
