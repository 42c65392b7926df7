"""Which call an event belongs to: its channel first (caller, peer, a playback's target), then its bridge."""

import pytest

from ariscale_common.calls import call_of, channel_of


def channel(channel_id: str) -> dict[str, str]:
    return {"id": channel_id, "name": f"PJSIP/x-{channel_id}"}


@pytest.mark.parametrize(
    ("event", "call"),
    [
        ({"type": "StasisStart", "channel": channel("n1-1.0")}, "channel:n1-1.0"),
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
        # A channel without an id (malformed) does not make a call.
        ({"type": "StasisStart", "channel": {"name": "PJSIP/x"}}, None),
    ],
)
def test_each_event_belongs_to_its_call(event: dict[str, object], call: str | None) -> None:
    assert call_of(event) == call


@pytest.mark.parametrize(
    ("call", "channel_id"),
    [("channel:n1-1.0", "n1-1.0"), ("bridge:conf", None), (None, None)],
)
def test_only_a_channels_call_has_a_channel(call: str | None, channel_id: str | None) -> None:
    assert channel_of(call) == channel_id
