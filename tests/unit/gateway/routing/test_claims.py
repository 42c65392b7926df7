"""Which ids a request creates (and so must claim for its app first)."""

import pytest

from gateway.exceptions import InvalidRecordingName
from gateway.ownership import Kind
from gateway.routing.claims import new_ids
from gateway.routing.messages import AriCall
from gateway.routing.plans import plan_for
from gateway.routing.spec import operations


def call(method: str, path: str, path_params: dict[str, str], query: list[tuple[str, str]]) -> AriCall:
    op = next(o for o in operations() if (o.method, o.path) == (method, path))
    return AriCall(op, plan_for(op), "a", path, path_params, query, None)


def test_sub_resources_with_ids_in_the_path_or_the_query() -> None:
    snoop = call("POST", "/channels/{channelId}/snoop/{snoopId}", {"channelId": "c", "snoopId": "s"}, [])
    assert new_ids(snoop) == [(Kind.CHANNEL, "s")]
    play = call("POST", "/channels/{channelId}/play", {"channelId": "c"}, [("playbackId", "p")])
    assert new_ids(play) == [(Kind.PLAYBACK, "p")]
    bridge_play = call(
        "POST", "/bridges/{bridgeId}/play/{playbackId}", {"bridgeId": "b", "playbackId": "p"}, []
    )
    assert new_ids(bridge_play) == [(Kind.PLAYBACK, "p")]


def test_creations_claim_the_other_channel_and_not_their_own_id() -> None:
    originate = call("POST", "/channels", {}, [("channelId", "x"), ("otherChannelId", "y")])
    assert new_ids(originate) == [(Kind.CHANNEL, "y")]


def test_requests_naming_existing_resources_claim_nothing() -> None:
    add = call("POST", "/bridges/{bridgeId}/addChannel", {"bridgeId": "b"}, [("channel", "c")])
    assert new_ids(add) == []
    get = call("GET", "/playbacks/{playbackId}", {"playbackId": "p"}, [])
    assert new_ids(get) == []


def test_a_recording_claims_its_live_and_stored_name() -> None:
    record = call("POST", "/channels/{channelId}/record", {"channelId": "c"}, [("name", "r1")])
    assert new_ids(record) == [(Kind.RECORDING, "r1"), (Kind.STORED, "r1")]
    for name in ("../x", "a/b", "", ".hidden"):
        bad = call("POST", "/channels/{channelId}/record", {"channelId": "c"}, [("name", name)])
        with pytest.raises(InvalidRecordingName):
            new_ids(bad)
