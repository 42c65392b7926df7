from collections import Counter

import pytest

from gateway.events.dispatch import NoLiveInstance, call_key, choose_instance
from gateway.events.instances import gateway_of


def channel(channel_id: str) -> dict[str, str]:
    return {"id": channel_id, "name": f"PJSIP/x-{channel_id}"}


@pytest.mark.parametrize(
    ("event", "key"),
    [
        ({"type": "StasisStart", "channel": channel("n1-1.0")}, "channel:n1-1.0"),
        ({"type": "ChannelDestroyed", "channel": channel("n1-1.0")}, "channel:n1-1.0"),
        # A channel entering a bridge belongs to its call, not to the bridge.
        (
            {"type": "ChannelEnteredBridge", "channel": channel("n2-5.1"), "bridge": {"id": "conf"}},
            "channel:n2-5.1",
        ),
        ({"type": "Dial", "caller": channel("n1-2.0"), "peer": channel("n1-3.0")}, "channel:n1-2.0"),
        ({"type": "Dial", "peer": channel("n1-3.0")}, "channel:n1-3.0"),
        (
            {"type": "PlaybackFinished", "playback": {"id": "p1", "target_uri": "channel:n1-4.0"}},
            "channel:n1-4.0",
        ),
        ({"type": "PlaybackStarted", "playback": {"id": "p2", "target_uri": "bridge:conf"}}, "bridge:conf"),
        (
            {"type": "RecordingFinished", "recording": {"name": "r", "target_uri": "channel:n2-1.0"}},
            "channel:n2-1.0",
        ),
        ({"type": "BridgeDestroyed", "bridge": {"id": "conf"}}, "bridge:conf"),
        ({"type": "DeviceStateChanged", "device_state": {"name": "Custom:x", "state": "INUSE"}}, None),
        ({"type": "PlaybackFinished", "playback": {"id": "p3", "target_uri": "endpoint:PJSIP/x"}}, None),
    ],
)
def test_each_event_is_keyed_by_its_call(event: dict[str, object], key: str | None) -> None:
    assert call_key(event) == key


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
