"""What the conference API says about a participant, from its channel and channel variables."""

from typing import Any

import pytest

from conf_app.services import participant_of


def channel(channel_id: str, number: str = "1001") -> dict[str, Any]:
    return {"id": channel_id, "name": "PJSIP/x", "caller": {"number": number, "name": ""}}


def test_a_participant_carries_its_node_caller_and_join_time() -> None:
    participant = participant_of(channel("n2-1795680783.7", "alice"), muted="", joined_at="1795680790.250")
    assert participant.model_dump() == {
        "channel_id": "n2-1795680783.7",
        "caller_id": "alice",
        "node": "n2",
        "muted": False,
        "joined_at": 1795680790.25,
    }


@pytest.mark.parametrize(("muted", "shown"), [("1", True), ("", False), ("0", False)])
def test_muted_only_when_the_variable_says_1(muted: str, shown: bool) -> None:
    assert participant_of(channel("n1-1.0"), muted=muted, joined_at="").muted is shown


@pytest.mark.parametrize("joined_at", ["", "soon"])
def test_an_unknown_join_time_is_null(joined_at: str) -> None:
    participant = participant_of(channel("n1-1.0"), muted="", joined_at=joined_at)
    assert participant.joined_at is None
    assert '"joined_at":null' in participant.model_dump_json()


def test_a_channel_without_caller_has_an_empty_caller_id() -> None:
    assert participant_of({"id": "n1-1.0"}, muted="", joined_at="").caller_id == ""
