import json

import pytest

from ariscale_common.errors import ApiError
from gateway.events.sequence import SEQ_FIELD, Delivered, parse_after, with_seq


def test_the_number_is_added_to_the_event_as_it_was_written() -> None:
    text = '{"type": "StasisStart", "channel": {"id": "n1-1.0"}}\n'
    numbered = with_seq(text, 42)
    assert numbered.startswith('{"type": "StasisStart", "channel": {"id": "n1-1.0"}')
    assert json.loads(numbered) == {**json.loads(text), SEQ_FIELD: 42}


def test_an_empty_object_gets_a_number_too() -> None:
    assert json.loads(with_seq("{ }", 1)) == {SEQ_FIELD: 1}


def test_only_objects_are_numbered() -> None:
    with pytest.raises(ValueError):
        with_seq("[1, 2]", 1)


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("0", 0), ("17", 17)])
def test_after_is_absent_or_a_number(value: str | None, expected: int | None) -> None:
    assert parse_after(value) == expected


@pytest.mark.parametrize("value", ["-1", "1.5", "abc", "1e3"])
def test_after_that_is_not_a_number_is_a_400_naming_it(value: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_after(value)
    assert refused.value.status == 400 and refused.value.details == {"after": value}


def test_each_number_is_delivered_once_and_none_at_or_below_the_floor() -> None:
    delivered = Delivered(floor=5)
    assert [delivered.first_time(s) for s in (3, 5, 6, 8, 6, 7, 8)] == [
        False, False, True, True, False, True, False,
    ]  # fmt: skip


def test_memory_stays_bounded_as_the_window_moves_on() -> None:
    delivered = Delivered(window=10)
    assert all(delivered.first_time(s) for s in range(1, 1000))
    assert delivered.floor >= 1000 - 2 * 10 - 1
    assert not delivered.first_time(500)
    assert delivered.first_time(1000)


def test_the_first_count_is_adopted_and_only_another_one_is_refused() -> None:
    delivered = Delivered()
    assert delivered.same_count("e1") and delivered.epoch == "e1"
    assert delivered.same_count("e1")
    assert delivered.same_count(None)  # a sender that does not say (an older gateway)
    assert not delivered.same_count("e2")
    assert delivered.epoch == "e1"  # still the count its numbers came from


def test_a_connection_knowing_no_count_yet_takes_any() -> None:
    assert Delivered(floor=7).same_count(None)
    assert Delivered(floor=7, epoch="e1").same_count("e1")
    assert not Delivered(floor=7, epoch="e1").same_count("e2")
