from datetime import UTC, datetime

from gateway.bridging.members import Member
from gateway.bridging.view import app_view, local_bridge_id
from gateway.failover.departures import (
    ENDED_UNHEARD,
    NODE_DIED,
    ari_timestamp,
    bridge_destroyed,
    channel_departure,
    members_departure,
)

LOCAL = {"id": local_bridge_id("conf"), "channels": ["n2-1.1", "n2-1.2", "n2-1.9", "n2-1.3"]}


def member(channel_id: str) -> Member:
    return Member("confapp", {"id": channel_id, "state": "Up", "dialplan": {"app_data": "confapp"}}, LOCAL)


def test_timestamps_are_in_asterisks_format() -> None:
    assert (
        ari_timestamp(datetime(2024, 5, 1, 12, 34, 56, 789000, tzinfo=UTC)) == "2024-05-01T12:34:56.789+0000"
    )


def test_each_member_leaves_the_bridge_then_ends_in_asteriskss_order() -> None:
    events = members_departure([member("n2-1.1"), member("n2-1.2")], {"n2-1.9"}, "T")
    assert [(e["type"], e["channel"]["id"]) for e in events] == [
        ("ChannelLeftBridge", "n2-1.1"),
        ("StasisEnd", "n2-1.1"),
        ("ChannelDestroyed", "n2-1.1"),
        ("ChannelLeftBridge", "n2-1.2"),
        ("StasisEnd", "n2-1.2"),
        ("ChannelDestroyed", "n2-1.2"),
    ]
    assert all(e["application"] == "confapp" and e["timestamp"] == "T" for e in events)
    assert events[2]["cause"] == NODE_DIED.code


def test_the_bridge_snapshot_lists_neither_the_leaving_members_nor_the_leg() -> None:
    left = members_departure([member("n2-1.1"), member("n2-1.2")], {"n2-1.9"}, "T")[0]
    assert left["bridge"]["channels"] == ["n2-1.3"]
    assert LOCAL["channels"] == ["n2-1.1", "n2-1.2", "n2-1.9", "n2-1.3"], "the snapshot is not changed"


def test_the_app_sees_its_own_bridge_id_in_what_is_written_for_a_member_node() -> None:
    seen = app_view(members_departure([member("n2-1.1")], set(), "T")[0])
    assert seen is not None and seen["bridge"]["id"] == "conf"


def test_a_bridge_without_survivors_is_destroyed() -> None:
    event = bridge_destroyed("confapp", "conf", "T")
    assert (event["type"], event["application"], event["bridge"]["id"]) == (
        "BridgeDestroyed",
        "confapp",
        "conf",
    )


def test_a_channel_in_no_bridge_ends_as_on_a_hang_up() -> None:
    events = channel_departure("conf", "n2-5.1", "2026-01-01T00:00:00.000+0000")
    assert [e["type"] for e in events] == ["StasisEnd", "ChannelDestroyed"]
    assert all(e["channel"]["id"] == "n2-5.1" and e["application"] == "conf" for e in events)
    assert events[1]["cause"] == 38


def test_a_channel_that_ended_unheard_ends_with_normal_clearing() -> None:
    events = channel_departure("conf", "n1-5.1", "T", ENDED_UNHEARD)
    assert [e["type"] for e in events] == ["StasisEnd", "ChannelDestroyed"]
    assert (events[1]["cause"], events[1]["cause_txt"]) == (16, "Normal Clearing")
