from typing import Any

from ariscale_common.dialplan import LINK_APP
from gateway.bridging.view import app_bridge_id, app_view, is_leg, local_bridge_id


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "application": "conf", **fields}


def channel(channel_id: str, app_data: str = "conf") -> dict[str, Any]:
    return {"id": channel_id, "dialplan": {"app_name": "Stasis", "app_data": app_data}}


def test_local_bridge_ids_round_trip() -> None:
    assert app_bridge_id(local_bridge_id("conf")) == "conf"
    assert app_bridge_id("conf") is None


def test_legs_are_recognised_at_both_ends() -> None:
    assert is_leg({"id": "ariscale-leg-1234"})
    assert is_leg(channel("n2-1.5", f"{LINK_APP},conf"))
    assert not is_leg(channel("n2-1.6"))


def test_events_about_legs_are_dropped() -> None:
    leg = channel("n2-1.5", f"{LINK_APP},conf")
    assert app_view(event("StasisStart", channel=leg)) is None
    assert app_view(event("ChannelEnteredBridge", channel=leg, bridge={"id": "conf", "channels": []})) is None


def test_membership_of_a_local_bridge_is_reported_on_the_apps_bridge() -> None:
    entered = event(
        "ChannelEnteredBridge",
        channel=channel("n1-9.1"),
        bridge={"id": local_bridge_id("conf"), "channels": ["n1-9.1", "n1-9.2"]},
    )
    seen = app_view(entered, legs={"n1-9.2"})
    assert seen is not None
    assert seen["bridge"]["id"] == "conf"
    assert seen["bridge"]["channels"] == ["n1-9.1"]


def test_the_local_bridges_own_life_is_hidden() -> None:
    assert app_view(event("BridgeDestroyed", bridge={"id": local_bridge_id("conf"), "channels": []})) is None


def test_home_leg_is_removed_from_member_lists() -> None:
    seen = app_view(
        event(
            "ChannelLeftBridge",
            channel=channel("n2-1.1"),
            bridge={"id": "conf", "channels": ["ariscale-leg-7"]},
        )
    )
    assert seen is not None and seen["bridge"]["channels"] == []


def test_other_events_pass_unchanged() -> None:
    original = event("ChannelDtmfReceived", channel=channel("n1-1.1"), digit="5")
    assert app_view(original) is original


def varset(variable: str, value: str) -> dict[str, Any]:
    return event("ChannelVarset", channel={"id": "n1-1.1"}, variable=variable, value=value)


def test_a_link_leg_is_nobodys_bridge_peer() -> None:
    assert app_view(varset("BRIDGEPEER", "PJSIP/cluster-00000001")) is None


def test_a_link_leg_is_taken_out_of_several_bridge_peers() -> None:
    seen = app_view(varset("BRIDGEPEER", "PJSIP/anonymous-00000002,PJSIP/cluster-00000001"))
    assert seen is not None and seen["value"] == "PJSIP/anonymous-00000002"


def test_real_peers_and_the_cleared_peer_are_left_alone() -> None:
    for value in ("PJSIP/anonymous-00000002", ""):
        original = varset("BRIDGEPEER", value)
        assert app_view(original) is original
